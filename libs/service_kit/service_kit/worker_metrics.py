"""Metrics that add up over a service's worker processes (workers.py). Each process keeps its own registry (no
shared memory, nothing more per call); a forked worker answers its samples on a socket pair made before the fork,
and the first worker's /metrics serves the sum of every worker's samples: one service, one set of series,
whatever the number of processes. Only a scrape pays for it (docs/decisions/2026-11-29-metrics-summed-over-workers.md).
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)
ASK = b"?"
LENGTH = struct.Struct("!I")
TIMEOUT_SECONDS = 5.0

Sample = tuple[str, dict[str, str], float]
Family = tuple[str, str, str, str, list[Sample]]  # name, help, type, unit, samples


class Workers:
    """This process's place among the workers: the first holds a socket to each forked one (`peers`); a forked
    one holds its end (`own`). Neither in a service of one process, or in tests that run servers in-process."""

    peers: list[socket.socket] = []  # process-wide by nature: set once, right after the fork
    own: socket.socket | None = None


def pairs(count: int) -> list[tuple[socket.socket, socket.socket]]:
    """One socket pair per worker to fork (made before forking, so both ends exist on both sides)."""
    return [socket.socketpair() for _ in range(count - 1)]


def become_first(made: list[tuple[socket.socket, socket.socket]]) -> None:
    for first_end, worker_end in made:
        worker_end.close()
        first_end.settimeout(TIMEOUT_SECONDS)
    Workers.peers = [first_end for first_end, _ in made]


def become_worker(made: list[tuple[socket.socket, socket.socket]], index: int) -> None:
    """In forked worker `index` (1, 2, ...): keep its own end, close the rest."""
    for position, (first_end, worker_end) in enumerate(made, start=1):
        first_end.close()
        if position != index:
            worker_end.close()
    Workers.own = made[index - 1][1]


def families(registry: CollectorRegistry) -> list[Family]:
    return [
        (m.name, m.documentation, m.type, m.unit, [(s.name, dict(s.labels), s.value) for s in m.samples])
        for m in registry.collect()
    ]


def answer(registry: CollectorRegistry) -> threading.Thread:
    """In a forked worker: a thread that sends the registry's samples whenever the first worker asks, until
    the first worker is gone."""
    conn = Workers.own
    assert conn is not None

    def loop() -> None:
        while conn.recv(1) == ASK:
            body = json.dumps(families(registry)).encode()
            conn.sendall(LENGTH.pack(len(body)) + body)

    thread = threading.Thread(target=loop, name="metrics-answer", daemon=True)
    thread.start()
    return thread


def _read(conn: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = conn.recv(min(left, 1 << 16))
        if not chunk:
            raise ConnectionError("a worker process closed its metrics socket")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def ask(conn: socket.socket) -> list[Family]:
    conn.sendall(ASK)
    (size,) = LENGTH.unpack(_read(conn, LENGTH.size))
    found: list[Any] = json.loads(_read(conn, size))
    return [(name, doc, kind, unit, [(s, labels, value) for s, labels, value in samples])
            for name, doc, kind, unit, samples in found]  # fmt: skip


def summed(every: Iterable[list[Family]]) -> Iterator[Metric]:
    """The families of every worker as one: each sample summed over the workers that have it (counters,
    histogram buckets, sums and counts, and gauges such as pool connections, which then count the service's),
    except _created timestamps, of which the earliest is kept."""
    metrics: dict[str, Metric] = {}
    values: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for worker in every:
        for name, documentation, kind, unit, samples in worker:
            if name not in metrics:
                metrics[name], values[name] = Metric(name, documentation, kind, unit), {}
            into = values[name]
            for sample, labels, value in samples:
                key = (sample, tuple(sorted(labels.items())))
                before = into.get(key)
                if before is None:
                    into[key] = value
                else:
                    into[key] = min(before, value) if sample.endswith("_created") else before + value
    for name, metric in metrics.items():
        for (sample, pairs_of_labels), value in values[name].items():
            metric.add_sample(sample, dict(pairs_of_labels), value)
        yield metric


class SummedCollector(Collector):
    """What the first worker's /metrics serves: its own registry plus every forked worker's, summed. A worker
    that does not answer fails the scrape (Prometheus records it as down) rather than under-count."""

    def __init__(self, own: CollectorRegistry, peers: list[socket.socket]) -> None:
        self._own = own
        self._peers = peers
        self._lock = threading.Lock()  # one exchange at a time on the sockets (scrapes may overlap)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            every = [families(self._own), *(ask(peer) for peer in self._peers)]
        yield from summed(every)


def served_registry(own: CollectorRegistry) -> CollectorRegistry:
    """The registry /metrics serves in this process: its own, or in the first of several workers, the sum."""
    if not Workers.peers:
        return own
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SummedCollector(own, Workers.peers))
    return registry
