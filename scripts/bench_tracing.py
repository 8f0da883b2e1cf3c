"""Where a SERVER span should be made: CPU per call of a grpc.aio server with the kit's chain only (tracing off),
with a tracing layer in the chain (service_kit.tracing.ServerSpans), and with opentelemetry-instrumentation-grpc's
aio server interceptor registered beside the chain, each with calls the caller sampled and calls it did not.
Client and server share this process; the client's part is the same in every configuration, so the differences
are the server's. Behind docs/decisions/2026-11-29-traces-in-the-interceptor-chain.md.

    .venv/bin/python -m scripts.bench_tracing [-n 4000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import grpc
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider, sampling
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from service_kit.interceptors import Chain, MethodInterceptor
from service_kit.metrics import Metrics
from service_kit.observability import ObservabilityInterceptor
from service_kit.tracing import ServerSpans

METHOD = "/bench.Echo/Call"
CONCURRENCY = 16


class Dropped(SpanExporter):
    """Exports to nowhere: the cost measured is making the spans, not sending them."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def provider() -> TracerProvider:
    """As the services run it by default: parent-based, so the caller's traceparent decides."""
    chosen = TracerProvider(
        sampler=sampling.ParentBased(sampling.ALWAYS_ON), resource=Resource.create({"service.name": "b"})
    )
    chosen.add_span_processor(BatchSpanProcessor(Dropped()))
    return chosen


def interceptors(config: str) -> list[Any]:
    base: list[MethodInterceptor] = [ObservabilityInterceptor(Metrics({}))]
    if config == "off":
        return [Chain(*base)]
    tracer_provider = provider()
    if config == "chain":
        return [Chain(base[0], ServerSpans(tracer_provider.get_tracer("bench")))]
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor(tracer_provider=tracer_provider), Chain(*base)]


async def handler(request: bytes, context: Any) -> bytes:
    return b"ok"


async def cpu_per_call(config: str, sampled: bool, calls: int) -> float:
    """Microseconds of this process's CPU per call."""
    server = grpc.aio.server(interceptors=interceptors(config))
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("bench.Echo", {"Call": grpc.unary_unary_rpc_method_handler(handler)}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call: Any = channel.unary_unary(METHOD)
            # the caller's decision, as Envoy sends it: sampled (01) or not (00, 99 requests in 100 at a 1 % ratio)
            flags = "01" if sampled else "00"
            traceparent = (("traceparent", f"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-{flags}"),)
            for _ in range(20):  # warm-up: handlers wrapped, connection up
                await asyncio.gather(*(call(b"", metadata=traceparent) for _ in range(CONCURRENCY)))
            started = time.process_time()
            for _ in range(calls // CONCURRENCY):  # in flight together, as under load
                await asyncio.gather(*(call(b"", metadata=traceparent) for _ in range(CONCURRENCY)))
            return (time.process_time() - started) / (calls // CONCURRENCY * CONCURRENCY) * 1e6
    finally:
        await server.stop(None)


async def measure(calls: int, rounds: int) -> dict[str, list[float]]:
    configs = [("off", False), ("chain", True), ("registered", True), ("chain", False), ("registered", False)]
    found: dict[str, list[float]] = {}
    for _ in range(rounds):  # interleaved, so that a busier moment does not fall on one configuration
        for config, sampled in configs:
            label = config if config == "off" else f"{config}, {'every call sampled' if sampled else 'none sampled'}"
            found.setdefault(label, []).append(await cpu_per_call(config, sampled, calls))
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench_tracing", description=__doc__)
    ap.add_argument("-n", "--calls", type=int, default=4000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    found = asyncio.run(measure(args.calls, args.rounds))
    # The least disturbed round of each: on a shared machine, other work only ever adds CPU time.
    off = min(found["off"])
    print(f"CPU per call, client and server in one process, {CONCURRENCY} in flight; the lowest of {args.rounds} "
          f"rounds of {args.calls} calls (median in brackets)")  # fmt: skip
    for label, values in found.items():
        best = min(values)
        print(f"{label:<42} {best:7.1f} us  ({statistics.median(values):7.1f})  +{best - off:5.1f} us over off")
    return 0


if __name__ == "__main__":
    sys.exit(main())
