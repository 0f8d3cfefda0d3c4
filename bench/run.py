"""Run the benchmarks side by side in one process tree and write bench/RESULTS.md."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from pathlib import Path

from . import auth_overhead, chat, reports, scale, scaleout, search, soak, token_cache
from .harness import FULL, QUICK, machine

# In the order of the report: a. to g.
BENCHMARKS = {
    "token_cache": token_cache.run,
    "auth_overhead": auth_overhead.run,
    "chat": chat.run,
    "reports": reports.run,
    "soak": soak.run,
    "search": search.run,
    "scale": scale.run,
    "scaleout": scaleout.run,  # needs the Redis at BENCH_REDIS_URL
}
RESULTS = Path(__file__).with_name("RESULTS.md")


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a check in under a minute")
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="benchmarks to run (default: all)")
    args = parser.parse_args(argv)
    sections = []
    for name in args.names or BENCHMARKS:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        sections.append(await BENCHMARKS[name](QUICK if args.quick else FULL))
    command = "make bench-quick" if args.quick else "make bench"
    report = (
        "# Benchmark results\n\n"
        f"Machine: {machine()}.\n\nReproduce with `{command}` "
        f"(`python -m bench.run {shlex.join(argv)}`). Absolute times drift on a shared 2-core machine; "
        "compare the ratios, which are measured side by side in one run.\n\n" + "\n".join(sections)
    )
    RESULTS.write_text(report)
    print(report)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
