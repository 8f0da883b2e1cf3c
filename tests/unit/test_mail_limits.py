"""The mail limits over the fake login counters: a few per window, refusals not counted, a fresh window later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from auth_service.app.mail_limits import mail_key, wait_seconds
from tests.unit.fakes import FakeAuthUow, FakeCounters, FakeUsers

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=1)


async def test_three_per_window_then_a_wait_until_the_window_after_the_last_counted_one() -> None:
    counters = FakeCounters()
    key = mail_key("reset-account", "alice@example.com")

    async def ask(at: datetime) -> float:
        async with FakeAuthUow(FakeUsers(), counters) as uow:
            wait = await wait_seconds(uow, key, 3, WINDOW, at)
            await uow.commit()
        return wait

    assert [await ask(NOW + timedelta(minutes=m)) for m in (0, 1, 2)] == [0, 0, 0]
    assert await ask(NOW + timedelta(minutes=10)) == (WINDOW - timedelta(minutes=8)).total_seconds()
    assert await ask(NOW + timedelta(minutes=30)) == (WINDOW - timedelta(minutes=28)).total_seconds()  # not counted
    assert await ask(NOW + timedelta(minutes=2) + WINDOW) == 0  # a fresh window
    assert "alice" not in key and key.startswith("reset-account:")  # typed-in addresses are not stored
