"""Brute-force defence for the password grant: counters per account, per address and per pair of both.

Modelled on Keycloak's brute-force detection, with one change against lock-out abuse: the
account-wide counter never locks out an address that has logged into that account before, so an
attacker hammering an account from elsewhere cannot keep its owner out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ..domain import LoginCounter


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    delay_after: int = 3  # failures of one account from one address before answers slow down
    delay_step_seconds: float = 0.5  # the delay grows by this much per further failure ...
    max_delay_seconds: float = 3.0  # ... up to this
    pair_lock_after: int = 5  # then that account is refused from that address
    account_lock_after: int = 20  # from any address it has never logged in from
    address_lock_after: int = 100  # for every account, from that address (password spraying)
    base_wait_seconds: float = 60.0  # first refusal period; doubles with each further failure ...
    max_wait_seconds: float = 900.0  # ... up to this (Keycloak's defaults: 60 s and 15 min)
    failure_reset_seconds: float = 12 * 3600.0  # counters older than this start again from zero


@dataclass(frozen=True, slots=True)
class ThrottleKeys:
    pair: str
    account: str
    address: str

    @classmethod
    def of(cls, username: str, address: str) -> ThrottleKeys:
        account = username.casefold()
        return cls(pair=_key("pair", f"{account}|{address}"), account=_key("account", account),
                   address=_key("address", address))  # fmt: skip

    @property
    def all(self) -> tuple[str, str, str]:
        return (self.pair, self.account, self.address)


def _key(scope: str, value: str) -> str:
    return f"{scope}:{hashlib.sha256(value.encode()).hexdigest()[:64]}"


class Throttle:
    def __init__(self, policy: ThrottlePolicy) -> None:
        self.policy = policy

    def failures(self, counter: LoginCounter | None, now: datetime) -> int:
        """Failures that still count: none once the last one is older than the reset period."""
        if counter is None or counter.last_failure_at is None:
            return 0
        if (now - counter.last_failure_at).total_seconds() >= self.policy.failure_reset_seconds:
            return 0
        return counter.failures

    def retry_after(self, counters: Mapping[str, LoginCounter], keys: ThrottleKeys, now: datetime) -> float:
        """Seconds until a login may be tried again (0: now). Refused attempts are not counted,
        so the wait grows only when someone fails again after waiting it out."""
        pair = counters.get(keys.pair)
        known_address = pair is not None and pair.last_success_at is not None
        limits = [(keys.pair, self.policy.pair_lock_after), (keys.address, self.policy.address_lock_after)]
        if not known_address:
            limits.append((keys.account, self.policy.account_lock_after))
        waits = [self._remaining(counters.get(key), threshold, now) for key, threshold in limits]
        return max(waits)

    def delay(self, counters: Mapping[str, LoginCounter], keys: ThrottleKeys, now: datetime) -> float:
        """Seconds to hold the answer before checking the password, growing with the pair's failures."""
        over = self.failures(counters.get(keys.pair), now) - self.policy.delay_after
        if over < 0:
            return 0.0
        return min(self.policy.delay_step_seconds * (over + 1), self.policy.max_delay_seconds)

    def _remaining(self, counter: LoginCounter | None, threshold: int, now: datetime) -> float:
        failures = self.failures(counter, now)
        if counter is None or counter.last_failure_at is None or failures < threshold:
            return 0.0
        wait = min(self.policy.base_wait_seconds * 2.0 ** min(failures - threshold, 30), self.policy.max_wait_seconds)
        return max(0.0, wait - (now - counter.last_failure_at).total_seconds())
