"""The benchmarks' code still runs: each at a tiny size. Nothing here is about time."""

from __future__ import annotations

import pytest

from bench.harness import SMOKE
from bench.run import BENCHMARKS


@pytest.mark.parametrize("name", list(BENCHMARKS))
async def test_benchmark_runs_and_reports(name):
    section = await BENCHMARKS[name](SMOKE)

    assert section.startswith("### ")
    assert "|---|" in section
