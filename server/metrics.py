"""Prometheus metrics: HTTP routes, upstream calls, caches and the process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.cache import CacheStats
from core.conversations import ConversationStats

__all__ = ["Metrics"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _CacheCollector(Collector):
    """Reads the caches' own counters at scrape time, so the hot path only bumps ints."""

    def __init__(self, stats: Callable[[], Iterable[CacheStats]]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        families = {
            "hits": CounterMetricFamily("cache_hits", "Cache reads that found a value.", labels=["cache"]),
            "misses": CounterMetricFamily("cache_misses", "Cache reads that found nothing.", labels=["cache"]),
            "evictions": CounterMetricFamily(
                "cache_evictions", "Entries dropped because the cache was full.", labels=["cache"]
            ),
            "expired": CounterMetricFamily(
                "cache_expired", "Entries removed because their TTL had passed.", labels=["cache"]
            ),
            "errors": CounterMetricFamily("cache_errors", "Backend operations that failed.", labels=["cache"]),
        }
        entries = GaugeMetricFamily("cache_entries", "Entries held now (memory backend).", labels=["cache"])
        for stats in self._stats():
            for field, family in families.items():
                family.add_metric([stats.name], getattr(stats, field))
            if stats.entries is not None:
                entries.add_metric([stats.name], stats.entries)
        yield from families.values()
        yield entries


class _ConversationCollector(Collector):
    def __init__(self, stats: Callable[[], ConversationStats]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        stats = self._stats()
        yield GaugeMetricFamily("conversation_users", "Users with a conversation held.", value=stats.users)
        yield GaugeMetricFamily("conversation_messages", "Messages held across users.", value=stats.messages)
        yield CounterMetricFamily(
            "conversation_users_evicted", "Users dropped because MAX_USERS was reached.", value=stats.users_evicted
        )
        yield CounterMetricFamily(
            "conversation_users_expired", "Users dropped after the idle TTL.", value=stats.users_expired
        )
        yield CounterMetricFamily(
            "conversation_store_errors", "Conversation store operations that failed (Redis).", value=stats.errors
        )


class Metrics:
    """One registry per app, so that several apps in one process (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.http_requests = Counter(
            "http_requests", "HTTP requests served.", ["route", "method", "status"], registry=self.registry
        )
        self.http_latency = Histogram(
            "http_request_duration_seconds",
            "Time to produce a response.",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upstream_requests = Counter(
            "upstream_requests", "Calls to upstream services.", ["service", "outcome"], registry=self.registry
        )
        self.upstream_errors = Counter(
            "upstream_errors", "Upstream calls that failed to connect, timed out or answered 5xx.",
            ["service"], registry=self.registry,
        )
        self.upstream_latency = Histogram(
            "upstream_request_duration_seconds",
            "Time to an upstream's response headers.",
            ["service"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.sweeps = Counter("cache_sweeps", "Runs of the background expiry sweep.", registry=self.registry)
        self.websockets = Gauge("websocket_connections", "Open chat websockets.", registry=self.registry)

    def watch_caches(self, stats: Callable[[], Iterable[CacheStats]]) -> None:
        self.registry.register(_CacheCollector(stats))

    def watch_conversations(self, stats: Callable[[], ConversationStats]) -> None:
        self.registry.register(_ConversationCollector(stats))

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = 499  # the client went away; nginx's code for it, not a server error
            raise
        finally:
            # Route templates, not paths: label values must stay a bounded set.
            resource = request.match_info.route.resource
            route = resource.canonical if resource is not None else "unmatched"
            self.http_requests.labels(route, request.method, str(status)).inc()
            self.http_latency.labels(route).observe(time.perf_counter() - started)

    def upstream_trace(self) -> aiohttp.TraceConfig:
        """A client trace that times every upstream call, labelled by its service."""
        trace = aiohttp.TraceConfig()

        async def on_start(_: Any, ctx: SimpleNamespace, params: aiohttp.TraceRequestStartParams) -> None:
            ctx.started = time.perf_counter()
            named = ctx.trace_request_ctx
            ctx.service = named.get("upstream", "other") if isinstance(named, dict) else "other"

        async def on_end(_: Any, ctx: SimpleNamespace, params: aiohttp.TraceRequestEndParams) -> None:
            status = params.response.status
            self._upstream_done(ctx, f"{status // 100}xx", failed=status >= 500)

        async def on_exception(_: Any, ctx: SimpleNamespace, params: aiohttp.TraceRequestExceptionParams) -> None:
            self._upstream_done(ctx, "error", failed=True)

        trace.on_request_start.append(on_start)
        trace.on_request_end.append(on_end)
        trace.on_request_exception.append(on_exception)
        return trace

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def _upstream_done(self, ctx: SimpleNamespace, outcome: str, *, failed: bool) -> None:
        self.upstream_requests.labels(ctx.service, outcome).inc()
        self.upstream_latency.labels(ctx.service).observe(time.perf_counter() - ctx.started)
        if failed:
            self.upstream_errors.labels(ctx.service).inc()
