"""Background HTTP traffic that records every answer, and the figures the reliability tests report."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

# name -> value, printed at the end of the run (see conftest.pytest_terminal_summary)
FIGURES: dict[str, object] = {}
# The promise is a 503 within a second, and the requests each test times itself are held to it. Background
# traffic is held to "never waits for a timeout" (Envoy's are 10-15 s): on a busy shared machine the whole
# process can stall for seconds, and hundreds of background requests would catch such a stall.
FAST = 1.0
NO_HANG = 5.0


def slowest_503(outcomes: list[Outcome]) -> float:
    return round(max((o.elapsed for o in outcomes if o.status == 503), default=0.0), 3)


Request = Callable[[httpx.Client], httpx.Response]


@dataclass
class Outcome:
    name: str
    started: float  # time.monotonic()
    elapsed: float
    status: int  # 0: no HTTP answer at all (connection error or client timeout)
    has_detail: bool

    @property
    def ended(self) -> float:
        return self.started + self.elapsed


def has_json_detail(response: httpx.Response) -> bool:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return False
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return False
    return isinstance(detail, str) and bool(detail)


def call(client: httpx.Client, name: str, request: Request) -> Outcome:
    started = time.monotonic()
    try:
        response = request(client)
    except httpx.HTTPError:
        return Outcome(name, started, time.monotonic() - started, 0, False)
    return Outcome(name, started, time.monotonic() - started, response.status_code, has_json_detail(response))


@dataclass
class Traffic:
    """`threads` clients, each sending every request of `requests` in turn until stopped."""

    url: str
    requests: dict[str, Request]
    threads: int = 4
    timeout: float = 5.0
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = [threading.Thread(target=self._run, daemon=True) for _ in range(self.threads)]

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=self.timeout) as client:
            while not self._stop.is_set():
                for name, request in self.requests.items():
                    outcome = call(client, name, request)
                    with self._lock:
                        self.outcomes.append(outcome)

    def __enter__(self) -> Traffic:
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(self.timeout + 5)

    def of(self, *names: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.name in names]


def timed(client: httpx.Client, method: str, path: str, **kwargs: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
    return response, time.monotonic() - started
