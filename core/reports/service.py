"""Report jobs: planning, the cache, per-user caps, progress, and results kept by id."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ..cache import Cache
from ..errors import CapacityExceeded, InvalidInput, NotFound, RateLimited, ServiceError, UpstreamError
from ..search import SearchQuery, SearchService, Source
from .generate import generate_report
from .plan import OutlineItem, ReportPlan, plan_report, propose_outline
from .writers import SectionWriter

__all__ = ["ReportHandle", "ReportRequest", "ReportService", "SectionEvent"]

log = logging.getLogger(__name__)

SectionEvent = tuple[int, str, str]  # index, title, status
# A partial report is kept only briefly, so that asking again soon retries its failed sections.
PARTIAL_TTL = 60.0


@dataclass(frozen=True, slots=True)
class ReportRequest:
    query: str
    source_ids: tuple[str, ...] | None = None
    outline: tuple[OutlineItem, ...] | None = None


@dataclass(slots=True)
class _Progress:
    """One generation's finished sections, shared by every job waiting on it."""

    finished: list[SectionEvent] = field(default_factory=list)
    listeners: list[asyncio.Queue[SectionEvent]] = field(default_factory=list)

    def record(self, index: int, title: str, status: str) -> None:
        self.finished.append((index, title, status))
        for queue in self.listeners:
            queue.put_nowait((index, title, status))

    def listen(self) -> asyncio.Queue[SectionEvent]:
        # Sections are at most 12, so the queue is bounded by the report itself.
        queue: asyncio.Queue[SectionEvent] = asyncio.Queue()
        for event in self.finished:
            queue.put_nowait(event)
        self.listeners.append(queue)
        return queue


@dataclass(slots=True)
class ReportHandle:
    report_id: str
    sections_total: int
    cached: bool
    task: asyncio.Future[dict[str, Any]]
    events: asyncio.Queue[SectionEvent]

    async def sections(self) -> AsyncIterator[SectionEvent]:
        """Each section as it finishes, until the report is done."""
        while True:
            getter = asyncio.ensure_future(self.events.get())
            try:
                await asyncio.wait({getter, self.task}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not getter.done():
                    getter.cancel()
            if getter.done() and not getter.cancelled():
                yield getter.result()
                continue
            while not self.events.empty():
                yield self.events.get_nowait()
            return


class ReportService:
    """A report runs in its own task: it finishes, and is kept, even if its client leaves."""

    def __init__(
        self,
        search: SearchService,
        writer: SectionWriter,
        reports: Cache[dict[str, Any]],
        jobs: Cache[dict[str, Any]],
        *,
        concurrency: int,
        max_per_user: int,
        max_running: int,
        default_sources: int = 8,
    ) -> None:
        self._search = search
        self._writer = writer
        self._reports = reports
        self._jobs = jobs
        self._concurrency = concurrency
        self._max_per_user = max_per_user
        self._max_running = max_running
        self._default_sources = default_sources
        self._running: dict[str, int] = {}  # user id -> reports running
        self._progress: dict[str, _Progress] = {}  # cache key -> the generation under way
        self._tasks: set[asyncio.Task[dict[str, Any]]] = set()

    async def start(self, user_id: str, request: ReportRequest) -> ReportHandle:
        plan = await self._plan(request)
        key = plan.cache_key(self._writer.name)
        report_id = "rep_" + secrets.token_hex(10)
        total = len(plan.sections)
        cached = await self._reports.get(key)
        if cached is not None:
            await self._jobs.set(report_id, _job(user_id, key, total, status=cached["status"], report=cached))
            done: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            done.set_result(cached)
            events: asyncio.Queue[SectionEvent] = asyncio.Queue()
            for section in cached["sections"]:
                events.put_nowait((section["index"], section["title"], section["status"]))
            return ReportHandle(report_id, total, True, done, events)
        if self._running.get(user_id, 0) >= self._max_per_user:
            raise RateLimited(f"at most {self._max_per_user} reports may run at once for one user", retry_after=5)
        if sum(self._running.values()) >= self._max_running:
            raise CapacityExceeded("the server is writing as many reports as it can; retry shortly")
        # The slot is taken before the first await, so concurrent starts cannot race past the caps.
        self._running[user_id] = self._running.get(user_id, 0) + 1
        try:
            # Written before the id is handed out: an id that could never be read is worse than a 503.
            await self._jobs.set(report_id, _job(user_id, key, total), required=True)
        except BaseException:
            self._release(user_id)
            raise
        progress = self._progress.setdefault(key, _Progress())
        events = progress.listen()
        task = asyncio.create_task(self._run(report_id, user_id, key, plan, progress, events))
        self._tasks.add(task)
        task.add_done_callback(_finished)
        return ReportHandle(report_id, total, False, task, events)

    async def status(self, user_id: str, report_id: str) -> dict[str, Any]:
        """The job: running with progress, or finished with its report. Others' ids read as unknown."""
        job = await self._jobs.get(report_id)
        if job is None or job["owner"] != user_id:
            raise NotFound(f"no report {report_id!r}")
        if job["status"] == "running":
            progress = await self._jobs.get(_progress_key(job["key"]))
            job = {**job, "sections_done": progress["done"] if progress is not None else 0}
        return job

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(
        self, report_id: str, user_id: str, key: str, plan: ReportPlan, progress: _Progress,
        events: asyncio.Queue[SectionEvent],
    ) -> dict[str, Any]:
        total = len(plan.sections)
        try:
            report = await self._reports.get_or_compute(key, lambda: self._generate(plan, progress), ttl=self._ttl)
        except BaseException as exc:
            # Whatever ended it (a failure, a bug, shutdown), the job must not read "running" for ever.
            message = exc.message if isinstance(exc, ServiceError) else "the report was interrupted"
            await asyncio.shield(self._jobs.set(report_id, _job(user_id, key, total, status="failed", error=message)))
            if isinstance(exc, ServiceError) or not isinstance(exc, Exception):
                raise
            log.exception("report %s failed", report_id)
            raise UpstreamError("report", "the report failed on our side") from None
        finally:
            progress.listeners.remove(events)
            if not progress.listeners and not progress.finished and self._progress.get(key) is progress:
                self._progress.pop(key, None)  # ended before its generation began
            self._tasks.discard(asyncio.current_task())  # type: ignore[arg-type]
            self._release(user_id)
        await self._jobs.set(report_id, _job(user_id, key, total, status=report["status"], report=report))
        return report

    async def _generate(self, plan: ReportPlan, progress: _Progress) -> dict[str, Any]:
        key = plan.cache_key(self._writer.name)

        async def section_done(index: int, title: str, status: str) -> None:
            progress.record(index, title, status)
            # Kept with the jobs, so that any instance can tell how far a report has come.
            await self._jobs.set(_progress_key(key), {"done": len(progress.finished)})

        await self._jobs.delete(_progress_key(key))  # a regenerated partial report starts from zero
        try:
            report = await generate_report(plan, self._writer, concurrency=self._concurrency, on_section=section_done)
        finally:
            self._progress.pop(key, None)
            await self._jobs.delete(_progress_key(key))
        if report["sections_failed"] == len(plan.sections):
            errors = "; ".join(sorted({section["error"] for section in report["sections"]}))
            raise UpstreamError("report", f"every section failed: {errors}")
        return report

    def _release(self, user_id: str) -> None:
        self._running[user_id] -= 1
        if not self._running[user_id]:
            del self._running[user_id]

    def _ttl(self, report: dict[str, Any]) -> float:
        return self._reports.ttl if report["status"] == "complete" else min(PARTIAL_TTL, self._reports.ttl)

    async def _plan(self, request: ReportRequest) -> ReportPlan:
        named: dict[str, Source] = {}
        wanted = list(request.source_ids or [])
        for item in request.outline or ():
            wanted.extend(item.source_ids or ())
        for source_id in dict.fromkeys(wanted):
            try:
                named[source_id] = await self._search.source(source_id)
            except NotFound:
                raise NotFound(f"unknown source_id {source_id!r}: search for it first") from None
        if request.source_ids is not None:
            selected = [named[source_id] for source_id in dict.fromkeys(request.source_ids)]
        else:
            found = await self._search.search(SearchQuery(request.query[:400], max_results=self._default_sources))
            selected = found.sources
        if not selected and not named:
            raise InvalidInput("query", "no sources were found for it; search with other words")
        outline = list(request.outline) if request.outline else propose_outline(request.query, selected)
        return plan_report(request.query, selected, outline, named)


def _finished(task: asyncio.Task[dict[str, Any]]) -> None:
    # A background report's error was recorded in its job; mark it seen so asyncio does not log it.
    if not task.cancelled():
        task.exception()


def _progress_key(report_key: str) -> str:
    return f"progress:{report_key}"


def _job(owner: str, key: str, total: int, *, status: str = "running", report: dict[str, Any] | None = None,
         error: str | None = None) -> dict[str, Any]:
    job: dict[str, Any] = {"owner": owner, "key": key, "status": status, "sections_total": total}
    if report is not None:
        job["report"] = report
    if error is not None:
        job["error"] = error
    return job
