"""Worker processes: only the first serves /metrics (tests/integration/test_workers.py runs real ones)."""

from __future__ import annotations

from service_kit.settings import ServiceSettings
from service_kit.workers import worker_settings


def test_only_the_first_worker_serves_metrics_as_the_port_cannot_be_shared() -> None:
    settings = ServiceSettings(port=1, database_url="sqlite+aiosqlite:///x.db", metrics_port=9464, workers=3)
    assert worker_settings(settings, 0).metrics_port == 9464
    assert [worker_settings(settings, i).metrics_port for i in (1, 2)] == [0, 0]
    assert worker_settings(settings, 1).workers == 3  # nothing else changes


def test_the_first_workers_metrics_are_every_workers_samples_summed() -> None:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from service_kit.worker_metrics import families, summed

    def worker(calls: int, seconds: float, connections: int) -> CollectorRegistry:
        registry = CollectorRegistry()
        Counter("calls", "Calls", ["method"], registry=registry).labels("Get").inc(calls)
        Histogram("latency_seconds", "Latency", registry=registry, buckets=(0.1, 1)).observe(seconds)
        Gauge("pool", "Connections", ["state"], registry=registry).labels("idle").set(connections)
        return registry

    first, second = worker(3, 0.05, 2), worker(4, 0.5, 5)
    merged = CollectorRegistry()
    merged.register(type("Summed", (), {"collect": lambda self: summed([families(first), families(second)])})())
    found = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(generate_latest(merged).decode())
        for s in family.samples
    }
    assert found[("calls_total", (("method", "Get"),))] == 7
    assert found[("latency_seconds_count", ())] == 2 and found[("latency_seconds_sum", ())] == 0.55
    assert found[("latency_seconds_bucket", (("le", "0.1"),))] == 1  # one of the two was under 0.1 s
    assert found[("latency_seconds_bucket", (("le", "1.0"),))] == 2
    assert found[("pool", (("state", "idle"),))] == 7  # the service's connections, all workers together
    started = [s.value for r in (first, second) for m in r.collect() for s in m.samples if s.name == "calls_created"]
    assert found[("calls_created", (("method", "Get"),))] == min(started)  # not a sum of timestamps
