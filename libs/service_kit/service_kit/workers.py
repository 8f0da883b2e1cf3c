"""Several server processes on one port (SO_REUSEPORT): the first one forks the others and watches them."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import os
import signal
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from pydantic import BaseModel

from . import worker_metrics

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
S = TypeVar("S", bound=BaseModel)


def _die_with_parent() -> None:
    """Linux: SIGTERM this worker when the first worker (its parent) dies, however that happens."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        log.warning("cannot ask to be stopped with the first worker")


def worker_settings(settings: S, index: int) -> S:
    """Only the first worker serves /metrics (settings.metrics_port): the port cannot be shared, and ports next
    to it may be taken (make run puts the two services' metrics on adjacent ports). It serves every worker's
    samples summed: the others answer it over socket pairs (worker_metrics.py)."""
    return settings if index == 0 else settings.model_copy(update={"metrics_port": 0})


def run_workers(count: int, serve: Callable[[int], Coroutine[Any, Any, None]]) -> int:
    """Run `serve(index)` in `count` processes: this one (index 0) and `count - 1` forks. If a fork exits on its own,
    this process stops too (exit code 1), and with it the others, so that whatever supervises the
    service sees it fail as a whole. No separate supervisor process: it would cost memory for nothing.
    Must run before any gRPC object exists: gRPC supports fork only before its core has started."""
    gc.freeze()  # objects imported so far are never touched by the collector: their pages stay shared
    children: list[int] = []
    links = worker_metrics.pairs(count)  # the first worker's /metrics asks the others over these
    for index in range(1, count):
        pid = os.fork()
        if pid == 0:
            _die_with_parent()
            worker_metrics.become_worker(links, index)
            code = 1
            try:
                asyncio.run(serve(index))
                code = 0
            finally:
                os._exit(code)
        children.append(pid)
    worker_metrics.become_first(links)
    log.info("started %d more workers: %s", len(children), " ".join(map(str, children)))
    lost: list[int] = []

    def reap() -> None:
        for pid in list(children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.remove(pid)
                lost.append(pid)
                log.error("worker %d exited with %d: stopping the service", pid, os.waitstatus_to_exitcode(status))
                os.kill(os.getpid(), signal.SIGTERM)  # serve() stops gracefully on SIGTERM

    async def first() -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGCHLD, reap)
        reap()  # a fork that died before the handler was in place
        await serve(0)

    asyncio.run(first())
    for pid in children:
        os.kill(pid, signal.SIGTERM)
    for pid in children:
        os.waitpid(pid, 0)
    return 1 if lost else 0
