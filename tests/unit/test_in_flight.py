"""Attempts of one account from one address take turns in a process (auth_service/app/password_check.py)."""

from __future__ import annotations

import asyncio

from auth_service.app.password_check import InFlight


async def test_at_most_the_limit_run_at_once_per_key_others_keys_do_not_wait_and_idle_keys_are_forgotten() -> None:
    in_flight = InFlight(2)
    running: dict[str, int] = {"a": 0, "b": 0}
    most: dict[str, int] = {"a": 0, "b": 0}
    release = asyncio.Event()

    async def attempt(key: str) -> None:
        async with in_flight.turn(key):
            running[key] += 1
            most[key] = max(most[key], running[key])
            await release.wait()
            running[key] -= 1

    tasks = [asyncio.ensure_future(attempt("a")) for _ in range(5)] + [asyncio.ensure_future(attempt("b"))]
    await asyncio.sleep(0.01)
    assert running == {"a": 2, "b": 1}  # "b" does not queue behind "a"
    release.set()
    await asyncio.gather(*tasks)
    assert most == {"a": 2, "b": 1}
    assert len(in_flight) == 0


async def test_a_cancelled_waiter_gives_its_place_back() -> None:
    in_flight = InFlight(1)
    hold = asyncio.Event()

    async def attempt() -> None:
        async with in_flight.turn("k"):
            await hold.wait()

    first, second = asyncio.ensure_future(attempt()), asyncio.ensure_future(attempt())
    await asyncio.sleep(0.01)
    second.cancel()
    hold.set()
    await first
    await asyncio.gather(second, return_exceptions=True)
    assert second.cancelled() and len(in_flight) == 0
