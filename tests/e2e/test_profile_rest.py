"""Profile management, account deletion and email verification through the REST gateway."""

from __future__ import annotations

import json
import re
import time

from tests.e2e.conftest import Frontend, Running

CIGAR = {"name": "Robusto", "brand": "Padrón", "rating": 4}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_user(frontend: Frontend) -> tuple[int, str, str]:
    response, username = frontend.register()
    return response.json()["id"], username, frontend.login(username).json()["access_token"]


def log_messages(text: str) -> str:
    """The log with JSON lines (AUTH_LOG_FORMAT=json) replaced by their message, text lines kept."""
    messages = []
    for line in text.splitlines():
        try:
            messages.append(json.loads(line)["message"])
        except (ValueError, KeyError, TypeError):
            messages.append(line)
    return "\n".join(messages)


def emailed_token(running: Running, email: str, timeout: float = 5.0) -> str:
    """The development sender writes verification emails to the log (AUTH_EMAIL_SENDER=log)."""
    log = running.stack.config.var_dir / "stack.log"
    pattern = re.compile(rf"email \(development sender, not sent\) to={re.escape(email)} .*?\n\n([\w-]{{40,}})\n", re.S)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = pattern.findall(log_messages(log.read_text(errors="replace")))
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"no verification email to {email} in the log")


def test_patch_users_me_changes_the_email_which_must_then_be_verified_again(frontend: Frontend) -> None:
    _, username, token = new_user(frontend)
    change = {"email": f"{username}@new.example.com", "current_password": "testpassword"}
    response = frontend.client.patch("/users/me/", json=change, headers=auth(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= {"id", "username", "email", "cigars", "email_verified"}
    assert (body["email"], body["email_verified"], body["cigars"]) == (f"{username}@new.example.com", False, [])


def test_patch_users_me_refuses_a_taken_or_invalid_email(frontend: Frontend) -> None:
    _, other, _ = new_user(frontend)
    _, _, token = new_user(frontend)
    change = {"email": f"{other}@example.com", "current_password": "testpassword"}
    taken = frontend.client.patch("/users/me/", json=change, headers=auth(token))
    assert taken.status_code == 409 and taken.json()["detail"]
    bad = frontend.client.patch(
        "/users/me", json={"email": "nope", "current_password": "testpassword"}, headers=auth(token)
    )
    assert bad.status_code == 400
    assert [v["field"] for d in bad.json()["details"] for v in d.get("field_violations", [])] == ["email"]


def test_a_password_change_is_204_and_needs_the_current_password(frontend: Frontend) -> None:
    _, username, token = new_user(frontend)
    wrong = frontend.client.post(
        "/users/me/password", json={"current_password": "nope", "new_password": "a brand new one"}, headers=auth(token)
    )
    assert wrong.status_code == 400
    assert [v["field"] for d in wrong.json()["details"] for v in d.get("field_violations", [])] == ["current_password"]
    changed = frontend.client.post(
        "/users/me/password",
        json={"current_password": "testpassword", "new_password": "a brand new one"},
        headers=auth(token),
    )
    assert (changed.status_code, changed.content) == (204, b"")
    refused = frontend.client.get("/users/me/", headers=auth(token))  # every older token is revoked
    assert refused.status_code == 401 and "log in again" in refused.json()["detail"]
    assert frontend.login(username).status_code == 400
    assert frontend.login(username, password="a brand new one").status_code == 200


def test_delete_users_me_is_204_deletes_the_cigars_and_refuses_the_token_everywhere(frontend: Frontend) -> None:
    user_id, username, token = new_user(frontend)
    cigar_ids = [frontend.client.post("/cigars/", json=CIGAR, headers=auth(token)).json()["id"] for _ in range(2)]
    without = frontend.client.delete("/users/me/", headers=auth(token))
    assert without.status_code == 400 and without.json()["details"][-1]["field_violations"][0]["field"] == (
        "current_password"
    )
    response = frontend.client.request(
        "DELETE", "/users/me/", json={"current_password": "testpassword"}, headers=auth(token)
    )
    assert (response.status_code, response.content) == (204, b"")
    assert frontend.client.get("/users/me/", headers=auth(token)).status_code == 401
    assert frontend.client.post("/cigars/", json=CIGAR, headers=auth(token)).status_code == 401
    remaining: set[int] = set()
    for skip in range(0, 100_000, 100):
        page = frontend.client.get(f"/cigars/?skip={skip}&limit=100").json()
        remaining |= {c["id"] for c in page}
        if len(page) < 100:
            break
    assert not remaining & set(cigar_ids)
    again, _ = frontend.register(username)
    assert again.status_code == 201 and again.json()["id"] != user_id


def test_the_emailed_token_verifies_the_address_once(running: Running, frontend: Frontend) -> None:
    _, username, token = new_user(frontend)
    assert frontend.client.get("/users/me/", headers=auth(token)).json()["email_verified"] is False
    emailed = emailed_token(running, f"{username}@example.com")
    verified = frontend.client.post("/users/verify", json={"token": emailed})
    assert verified.status_code == 200, verified.text
    assert verified.json()["email_verified"] is True
    assert frontend.client.get("/users/me/", headers=auth(token)).json()["email_verified"] is True
    reused = frontend.client.post("/users/verify", json={"token": emailed})
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_verification_token"
