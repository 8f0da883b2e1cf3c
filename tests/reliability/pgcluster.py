"""A throwaway PostgreSQL 15 cluster (initdb in a temporary directory, a free port), started and stopped by PID."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg

PG_BIN = Path(os.environ.get("CIGAR_PG_BIN", "/usr/lib/postgresql/15/bin"))


class ThrowawayPostgres:
    """initdb refuses to run as root, so as root the cluster belongs to the `postgres` user."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.user = "postgres" if os.geteuid() == 0 else None
        self.dir = Path(tempfile.mkdtemp(prefix="cigar-pg-"))
        if self.user:
            shutil.chown(self.dir, self.user, self.user)
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._run([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"])

    def _run(self, args: list[str]) -> None:
        result = subprocess.run(args, user=self.user, capture_output=True, text=True, cwd=self.dir)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stdout}{result.stderr}")

    def url(self, database: str = "postgres", driver: str = "postgresql") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 20.0) -> None:
        # fsync off: the data is thrown away, and an unclean stop is never part of these tests.
        args = [str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.dir),
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"]  # fmt: skip
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(args, user=self.user, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            probe = subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                   capture_output=True)  # fmt: skip
            if probe.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("postgres did not accept connections in time")

    def stop(self, timeout: float = 20.0) -> None:
        """Fast shutdown (SIGINT): open transactions are rolled back, clients are disconnected."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    async def create_database(self, name: str) -> str:
        conn = await asyncpg.connect(self.url(), timeout=5)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.url(name, driver="postgresql+asyncpg")
