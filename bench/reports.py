"""d. Reports: wall time against the ideal schedule, concurrency 3 against 1, and the offline writer."""

from __future__ import annotations

import asyncio
import math
import re
import time
from typing import Any

import aiohttp
import orjson

from tests.fakes.llm import FakeOpenAI

from .harness import Size, bearer, fake_server, mint_token, ms, percentile, service, table

IDEAL_GOAL = 1.15  # the issue: wall time ≤ 1.15 × (ceil(n/3) + 1)·L
SPEEDUP_GOAL = 2.5  # the issue: concurrency 1 / concurrency 3 ≥ 2.5 for 9 or more sections
SPEEDUP_FROM = 9
LOCAL_GOAL = 1.0  # the issue: a cited multi-section report "in under a second" with the embedded defaults
CONCURRENCY = 3
QUERY = "How did central banks respond to inflation after 2021?"
TITLES = ["Rate hikes", "Balance sheets", "Negative rates", "Yield curve control", "Forward guidance",
          "Inflation targets", "Digital currencies", "Gilt markets", "Wages", "Energy prices", "Housing",
          "Exchange rates"]
LOCAL_QUERIES = [
    "How did central banks respond to inflation after 2021?",
    "What did Germany's nuclear phase-out mean for its energy policy?",
    "Why did measles come back, and what do vaccination rates show?",
    "What does the EU AI Act require of general-purpose models?",
    "How are cities adapting to floods and heat waves?",
    "How do publishers license their content to AI crawlers?",
    "Why did the Bank of Japan end yield curve control?",
    "How are governments paying for the energy transition?",
    "What did the pandemic teach public health agencies about surveillance?",
    "How is climate adaptation financed in developing countries?",
]
TIMEOUT = aiohttp.ClientTimeout(total=120)


def cite_the_numbers_offered(body: dict[str, Any]) -> str:
    """The fake model's reply: a section citing every number its prompt offers, or the synthesis JSON."""
    prompt = body["messages"][-1]["content"]
    if "JSON object" in prompt:
        return orjson.dumps({"summary": "In short [1].", "conflicts": ["They differ [2]."],
                             "research_directions": ["Look further.", "Compare.", "Update."]}).decode()
    title = re.search(r'section titled "([^"]+)"', prompt).group(1)  # type: ignore[union-attr]
    offered = re.search(r"only the numbers ([\d, ]+):", prompt).group(1)  # type: ignore[union-attr]
    numbers = offered.replace(" ", "").split(",")
    return f"About {title}: " + " ".join(f"a claim [{n}]." for n in numbers)


async def _report(session: aiohttp.ClientSession, url: str, headers: dict[str, str],
                  body: dict[str, Any]) -> tuple[float, bool]:
    """One POST /api/reports: its wall time, and whether it came back complete and not from the cache."""
    started = time.perf_counter()
    async with session.post(f"{url}/api/reports", json=body, headers=headers) as response:
        answer = await response.json()
        ok = response.status == 200 and answer["status"] == "complete" and not answer["cached"]
    return time.perf_counter() - started, ok


def _outline(n: int) -> list[dict[str, str]]:
    return [{"title": title} for title in TITLES[:n]]


def _query(n: int, concurrency: int) -> str:
    return f"{QUERY} ({n} sections, concurrency {concurrency})"  # never the same twice: no cache hit


async def _model_runs(sizes: tuple[int, ...], latency: float) -> tuple[dict[int, tuple[float, int]],
                                                                        dict[int, float], list[str]]:
    """Per section count: (wall time, max in flight) at concurrency 3, and the wall time at concurrency 1."""
    fake = FakeOpenAI()
    fake.latency = latency
    fake.reply = cite_the_numbers_offered
    wide: dict[int, tuple[float, int]] = {}
    narrow: dict[int, float] = {}
    failed: list[str] = []
    async with fake_server(fake):
        env = {"LLM_PROVIDER": "openai", "OPENAI_BASE_URL": fake.url, "RETRY_BASE_DELAY": "0.001"}
        async with service(**env, REPORT_CONCURRENCY=str(CONCURRENCY)) as three, \
                service(**env, REPORT_CONCURRENCY="1") as one, \
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=TIMEOUT) as session:
            headers = bearer(mint_token("bench-reports"))
            for svc, concurrency in ((three, CONCURRENCY), (one, 1)):
                # The first upstream connection and the first search, outside the measurement.
                await _report(session, svc.url, headers, {"query": _query(0, concurrency), "outline": _outline(1)})
                for n in sizes:
                    fake.max_in_flight = 0
                    body = {"query": _query(n, concurrency), "outline": _outline(n)}
                    elapsed, ok = await _report(session, svc.url, headers, body)
                    if not ok:
                        failed.append(f"{n} sections at concurrency {concurrency}")
                    if concurrency == 1:
                        narrow[n] = elapsed
                    else:
                        wide[n] = (elapsed, fake.max_in_flight)
    return wide, narrow, failed


async def _local(runs: int) -> tuple[list[float], list[str]]:
    """Default reports (a query, no outline) from the embedded extractive writer, one at a time."""
    samples: list[float] = []
    failed: list[str] = []
    async with service() as svc, aiohttp.ClientSession(timeout=TIMEOUT) as session:
        headers = bearer(mint_token("bench-reports-local"))
        for i in range(runs):
            elapsed, ok = await _report(session, svc.url, headers, {"query": LOCAL_QUERIES[i % len(LOCAL_QUERIES)]})
            samples.append(elapsed)
            if not ok:
                failed.append(f"local report {i + 1}")
    return samples, failed


def _verdict(ok: bool) -> str:
    return "met" if ok else "missed"


async def run(size: Size) -> str:
    latency = size.pick(0.3, 0.1, 0.02)
    sizes = size.pick((3, 6, 9, 12), (3, 9), (3,))
    wide, narrow, failed = await _model_runs(sizes, latency)
    local, local_failed = await _local(size.pick(10, 5, 2))
    rows = []
    for n in sizes:
        elapsed, in_flight = wide[n]
        ideal = (math.ceil(n / CONCURRENCY) + 1) * latency
        ratio, speedup = elapsed / ideal, narrow[n] / elapsed
        speedup_goal = (f"≥ {SPEEDUP_GOAL:g}× — {_verdict(speedup >= SPEEDUP_GOAL)}" if n >= SPEEDUP_FROM
                        else f"(goal from {SPEEDUP_FROM} sections)")
        ideal_goal = f"≤ {IDEAL_GOAL:g}× — {_verdict(ratio <= IDEAL_GOAL)}"
        in_flight_goal = f"{in_flight} (goal {CONCURRENCY}, never more — {_verdict(in_flight == CONCURRENCY)})"
        rows.append([str(n), ms(elapsed), ms(ideal), f"{ratio:.2f}×", ideal_goal, ms(narrow[n]),
                     f"{speedup:.2f}×", speedup_goal, in_flight_goal])
    p50 = percentile(local, 50)
    local_rows = [[f"default report, local extractive writer ({len(local)} queries, sequential)", ms(p50),
                   ms(max(local)), f"< {LOCAL_GOAL * 1000:g} ms — {_verdict(p50 < LOCAL_GOAL)}"]]
    trouble = failed + local_failed
    checked = ("Every report came back `complete` and uncached." if not trouble
               else f"**Not complete or served from the cache:** {', '.join(trouble)}.")
    return (
        f"### d. Reports (a fake OpenAI-compatible model answering each call in {latency * 1000:g} ms)\n\n"
        + table(["sections", "wall time, concurrency 3", "ideal (⌈n/3⌉+1)·L", "ratio", "goal",
                 "wall time, concurrency 1", "speed-up", "goal", "model calls in flight (max)"], rows)
        + f"\n\nOne POST /api/reports with an explicit outline of n titles, sequential, against two services side "
        f"by side (`REPORT_CONCURRENCY=3` and `=1`) sharing one fake model; each query is new, so nothing is cached. "
        f"The ideal is ⌈n/3⌉ rounds of sections plus the synthesis call, each L = {latency * 1000:g} ms; the ratio "
        "is the server's overhead on top of that schedule. The speed-up's own ideal is (n+1)/(⌈n/3⌉+1): exactly "
        "2.5 at 9 sections, so that goal is met only with zero overhead, and 2.6 at 12. In flight is the most "
        f"calls the fake model saw at once during the concurrency-3 report. {checked}\n\n"
        + table(["", "p50", "max", "goal"], local_rows)
        + "\n\nThe embedded defaults (no model upstream): search, a proposed outline of three to five sections "
        "and a cited extractive report, total wall time over HTTP; queries cycle through the corpus topics.\n"
    )


if __name__ == "__main__":
    from .harness import QUICK

    print(asyncio.run(run(QUICK)))
