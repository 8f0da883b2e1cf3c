"""The server's background rounds: one now, then one every N seconds; a failed round is logged, the next tried."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]


async def every(
    seconds: float,
    job: Callable[[], Awaitable[object]],
    log: logging.Logger,
    what: str,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Run `job` until cancelled (the server stops its background tasks so); `what` names it in the log."""
    while True:
        try:
            await job()
        except Exception:
            log.exception("%s failed", what)
        await sleep(seconds)
