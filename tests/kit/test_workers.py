"""Worker processes: only the first serves /metrics (tests/integration/test_workers.py runs real ones)."""

from __future__ import annotations

from service_kit.settings import ServiceSettings
from service_kit.workers import worker_settings


def test_only_the_first_worker_serves_metrics_as_the_port_cannot_be_shared() -> None:
    settings = ServiceSettings(port=1, database_url="sqlite+aiosqlite:///x.db", metrics_port=9464, workers=3)
    assert worker_settings(settings, 0).metrics_port == 9464
    assert [worker_settings(settings, i).metrics_port for i in (1, 2)] == [0, 0]
    assert worker_settings(settings, 1).workers == 3  # nothing else changes
