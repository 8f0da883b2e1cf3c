"""A call that has started runs to its end even if the caller goes away: no transaction is cut in half."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

from .interceptors import Behaviour, Kind, MethodInterceptor, ServicerContext


def _consume(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: a call whose caller is gone has nobody to report to


class ShieldInterceptor(MethodInterceptor):
    """When a client disconnects, grpc.aio cancels the handler wherever it is awaiting, e.g. inside a
    database driver; a cancelled SQLite write could leave its lock held and stall every later writer.
    Running the handler as a shielded task lets it finish (bounded by the database's own timeouts).
    Methods named in `reads` only read, and a read cut short leaves nothing behind (the statement driver drops
    or reuses the connection safely): they run unshielded, saving a task per call (~10 us). Server streams
    run unshielded too: they write to their caller as they go, so a stream nobody reads has nothing to finish
    (and one that waits for events, like health's Watch, would otherwise wait forever)."""

    def __init__(self, reads: Collection[str] = ()) -> None:
        super().__init__()
        self._reads = frozenset(reads)

    def wrap(self, inner: Behaviour, method: str, kind: Kind) -> Behaviour:
        if method in self._reads or kind == "unary_stream":
            return inner

        async def shielded(request: Any, context: ServicerContext) -> Any:
            task = asyncio.ensure_future(inner(request, context))
            task.add_done_callback(_consume)
            return await asyncio.shield(task)

        return shielded
