"""How often someone may make us send mail (password resets, verification resends): counters per account and per
client address, on the login counters' table and machinery, each allowing `limit` mails per window."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain import LoginCounter
from ..ports import UnitOfWork


def mail_key(scope: str, value: str) -> str:
    """Hashed like the login counters' keys: an email address typed in is not stored."""
    return f"{scope}:{hashlib.sha256(value.encode()).hexdigest()}"


@dataclass(frozen=True, slots=True)
class MailLimits:
    per_account: int  # mails one account may be sent per window
    per_address: int  # requests one client address may make per window
    window: timedelta  # counted since the first of them; the count starts again once the last is this old


async def wait_seconds(uow: UnitOfWork, key: str, limit: int, window: timedelta, now: datetime) -> float:
    """0 when one more is allowed now (and it is counted, in the caller's unit of work, which holds the counter
    locked), else how long until it is. A refused one is not counted: waiting it out always works."""
    counters = await uow.counters.lock([key])
    wait = _remaining(counters.get(key), limit, window, now)
    if wait == 0:
        await uow.counters.record_failure([key], now, reset_before=now - window)
    return wait


def _remaining(counter: LoginCounter | None, limit: int, window: timedelta, now: datetime) -> float:
    if counter is None or counter.last_failure_at is None or counter.failures < limit:
        return 0.0
    return max(0.0, (window - (now - counter.last_failure_at)).total_seconds())
