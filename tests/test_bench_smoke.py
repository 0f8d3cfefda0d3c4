"""The benchmarks' code still runs: each at a tiny size. Nothing here is about time."""

from __future__ import annotations

import os

import pytest

from bench.harness import SMOKE
from bench.run import BENCHMARKS
from tests.conftest import redis_reachable

NEEDS_REDIS = {"scaleout"}


@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=pytest.mark.redis) if name in NEEDS_REDIS else name for name in BENCHMARKS]
)
async def test_benchmark_runs_and_reports(name):
    if name in NEEDS_REDIS and not redis_reachable():
        if os.environ.get("REQUIRE_REDIS"):
            pytest.fail("Redis is required but does not answer")
        pytest.skip("no Redis")

    section = await BENCHMARKS[name](SMOKE)

    assert section.startswith("### ")
    assert "|---|" in section
