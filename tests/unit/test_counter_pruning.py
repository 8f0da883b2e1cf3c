"""Pruning old login counters: when, and with which cut-offs, over a fake store and an injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from auth_service.app.counter_pruning import CounterPruning

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class FakeCounters:
    def __init__(self) -> None:
        self.calls: list[tuple[datetime, datetime]] = []
        self.fail_next = False

    async def prune(self, failures_before: datetime, successes_before: datetime) -> int:
        self.calls.append((failures_before, successes_before))
        if self.fail_next:
            self.fail_next = False
            raise OSError("database unavailable")
        return 2


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


async def test_each_round_prunes_failures_past_the_reset_period_and_successes_past_the_memory() -> None:
    counters, clock = FakeCounters(), Clock()
    pruning = CounterPruning(counters, clock, timedelta(hours=12), timedelta(days=90), every_seconds=3600)
    assert await pruning.prune_once() == 2
    clock.now += timedelta(days=1)
    await pruning.prune_once()
    assert counters.calls == [
        (START - timedelta(hours=12), START - timedelta(days=90)),
        (START + timedelta(days=1) - timedelta(hours=12), START + timedelta(days=1) - timedelta(days=90)),
    ]


async def test_the_background_task_prunes_every_period_and_survives_a_failed_round() -> None:
    counters, clock = FakeCounters(), Clock()
    counters.fail_next = True
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += timedelta(seconds=seconds)
        if len(slept) == 3:
            raise asyncio.CancelledError  # the server stops it like this

    pruning = CounterPruning(counters, clock, timedelta(hours=12), timedelta(days=90), 3600, sleep=sleep)
    with pytest.raises(asyncio.CancelledError):
        await pruning.run()
    assert slept == [3600, 3600, 3600]
    assert [failures for failures, _ in counters.calls] == [
        START + timedelta(hours=h) - timedelta(hours=12) for h in (0, 1, 2)
    ]
