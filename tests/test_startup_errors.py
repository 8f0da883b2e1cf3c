"""A service started with a bad configuration exits at once with one readable line naming the setting."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port, run_migrations

ROOT = Path(__file__).resolve().parent.parent
SERVICES = {"auth": "auth_service", "collection": "collection_service"}


def assert_one_line_naming(result: subprocess.CompletedProcess[str], setting: str, *words: str) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert setting in lines[0]
    for word in words:
        assert word in lines[0]
    return lines[0]


class Scenarios:
    """Every bad start of this module launched at once (each spends most of its time importing), read on demand."""

    def __init__(self, tmp: Path, key_file: Path) -> None:
        self.tmp, self.key_file = tmp, key_file
        self.running: dict[str, subprocess.Popen[str]] = {}
        self.results: dict[str, subprocess.CompletedProcess[str]] = {}

    def env(self, service: str, **overrides: str) -> dict[str, str]:
        """A complete, valid environment for the service, except for the overrides."""
        valid = {
            "auth": {
                "AUTH_PRIVATE_KEY_FILE": str(self.key_file),
                "AUTH_DATABASE_URL": f"sqlite+aiosqlite:///{self.tmp}/a.db",
            },
            "collection": {"COLLECTION_DATABASE_URL": f"sqlite+aiosqlite:///{self.tmp}/c.db"},
        }[service]
        ports = {"AUTH_PORT": str(free_port()), "COLLECTION_PORT": str(free_port())}
        return {**os.environ, **ports, **valid, **overrides}

    def launch(self, name: str, service: str, env: dict[str, str], *args: str) -> None:
        self.running[name] = subprocess.Popen(
            [sys.executable, "-m", SERVICES[service], *args],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def result(self, name: str) -> subprocess.CompletedProcess[str]:
        if name not in self.results:
            proc = self.running[name]
            out, err = proc.communicate(timeout=60)
            self.results[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        return self.results[name]

    def stop(self) -> None:
        for proc in self.running.values():
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


@pytest.fixture(scope="module")
def bad_starts(tmp_path_factory: pytest.TempPathFactory, key_file: Path) -> Iterator[Scenarios]:
    tmp = tmp_path_factory.mktemp("bad-starts")
    runs = Scenarios(tmp, key_file)
    silent = socket.socket()  # accepts connections (the kernel does) and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    placeholder = tmp / "auth_ed25519.pem"
    placeholder.write_text("REPLACE ME: python -m auth_service genkey secrets/auth_ed25519.pem\n")
    for service in SERVICES:
        setting = f"{service.upper()}_DATABASE_URL"
        runs.launch(f"malformed-{service}", service, runs.env(service, **{setting: "postgres//cigar:hunter2@db/cigar"}))
        closed = f"postgresql+asyncpg://cigar:hunter2@127.0.0.1:{free_port()}/cigar"  # nothing listens there
        runs.launch(f"unreachable-{service}", service, runs.env(service, **{setting: closed}))
        runs.launch(f"unmigrated-{service}", service, runs.env(service))
    silent_url = f"postgresql+asyncpg://cigar@127.0.0.1:{silent.getsockname()[1]}/cigar"
    runs.launch("silent", "collection", runs.env("collection", COLLECTION_DATABASE_URL=silent_url))
    sync_url = "postgresql://cigar@127.0.0.1:5432/cigar"
    runs.launch("sync-driver", "collection", runs.env("collection", COLLECTION_DATABASE_URL=sync_url))
    closed = f"postgresql+asyncpg://cigar@127.0.0.1:{free_port()}/cigar"
    runs.launch("migrate-unreachable", "auth", runs.env("auth", AUTH_DATABASE_URL=closed), "migrate")
    runs.launch("no-key", "auth", runs.env("auth", AUTH_PRIVATE_KEY_FILE=str(tmp / "absent.pem")))
    runs.launch("placeholder-key", "auth", runs.env("auth", AUTH_PRIVATE_KEY_FILE=str(placeholder)))
    mail = {"AUTH_ENVIRONMENT": "production", "AUTH_EMAIL_SENDER": "smtp", "AUTH_SMTP_USERNAME": "mailer"}
    runs.launch("log-sender-in-production", "auth", runs.env("auth", AUTH_ENVIRONMENT="production"))
    runs.launch("no-smtp-password", "auth", runs.env("auth", **mail, AUTH_SMTP_PASSWORD_FILE=str(tmp / "absent")))
    password = tmp / "smtp_password"
    password.write_text("hunter2\n")
    runs.launch(
        "smtp-login-in-clear",
        "auth",
        runs.env("auth", **mail, AUTH_SMTP_PASSWORD_FILE=str(password), AUTH_SMTP_TLS="none"),
    )
    try:
        yield runs
    finally:
        runs.stop()
        silent.close()


@pytest.mark.parametrize("service", SERVICES)
def test_a_malformed_database_url_is_named_in_one_line(service: str, bad_starts: Scenarios) -> None:
    result = bad_starts.result(f"malformed-{service}")
    line = assert_one_line_naming(result, f"{service.upper()}_DATABASE_URL", "not a database URL")
    assert "hunter2" not in line


@pytest.mark.parametrize("service", SERVICES)
def test_an_unreachable_database_is_named_without_its_password(service: str, bad_starts: Scenarios) -> None:
    result = bad_starts.result(f"unreachable-{service}")
    line = assert_one_line_naming(result, f"{service.upper()}_DATABASE_URL", "cannot use")
    assert "hunter2" not in line and "cigar:***@127.0.0.1" in line


@pytest.mark.parametrize("service", SERVICES)
def test_an_unmigrated_database_is_refused_with_the_command_to_run(service: str, bad_starts: Scenarios) -> None:
    assert_one_line_naming(bad_starts.result(f"unmigrated-{service}"), f"{service.upper()}_DATABASE_URL", "migrate")


def test_a_database_that_never_answers_gives_up_after_a_few_seconds(bad_starts: Scenarios) -> None:
    assert_one_line_naming(bad_starts.result("silent"), "COLLECTION_DATABASE_URL", "no answer from", "within 5s")


def test_a_synchronous_driver_is_refused_with_the_supported_forms(bad_starts: Scenarios) -> None:
    result = bad_starts.result("sync-driver")
    assert_one_line_naming(result, "COLLECTION_DATABASE_URL", "unsupported driver", "postgresql+asyncpg://")


def test_migrate_names_an_unreachable_database_in_one_line(bad_starts: Scenarios) -> None:
    assert_one_line_naming(bad_starts.result("migrate-unreachable"), "AUTH_DATABASE_URL", "cannot use")


def test_a_missing_key_file_is_named_in_one_line(bad_starts: Scenarios) -> None:
    assert_one_line_naming(bad_starts.result("no-key"), "AUTH_PRIVATE_KEY_FILE", "absent.pem", "No such file")


def test_a_placeholder_key_file_is_named_with_the_command_that_makes_a_key(bad_starts: Scenarios) -> None:
    assert_one_line_naming(bad_starts.result("placeholder-key"), "AUTH_PRIVATE_KEY_FILE", "placeholder", "genkey")


def test_the_log_mail_sender_is_refused_in_production_in_one_line(bad_starts: Scenarios) -> None:
    line = assert_one_line_naming(bad_starts.result("log-sender-in-production"), "AUTH_EMAIL_SENDER", "production")
    assert "smtp" in line


def test_an_smtp_login_without_its_password_file_is_named_in_one_line(bad_starts: Scenarios) -> None:
    assert_one_line_naming(bad_starts.result("no-smtp-password"), "AUTH_SMTP_PASSWORD_FILE", "absent")


def test_an_smtp_login_over_a_connection_without_tls_is_refused_in_one_line(bad_starts: Scenarios) -> None:
    line = assert_one_line_naming(bad_starts.result("smtp-login-in-clear"), "AUTH_SMTP_TLS", "starttls")
    assert "hunter2" not in line


def test_check_waits_until_the_migration_has_run(tmp_path: Path) -> None:
    env = {**os.environ, "COLLECTION_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/c.db"}
    waiting = subprocess.Popen(
        [sys.executable, "-m", "collection_service", "check", "--wait", "60"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(2)
        assert waiting.poll() is None, "check returned before the database was migrated"
        run_migrations("collection", env["COLLECTION_DATABASE_URL"])
        out, err = waiting.communicate(timeout=30)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait()
    assert waiting.returncode == 0, err
    assert "database ready at revision" in out
