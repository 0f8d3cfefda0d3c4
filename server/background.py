"""The one background task that expires what has outlived its TTL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

__all__ = ["Sweepable", "sweep_forever"]

log = logging.getLogger(__name__)


class Sweepable(Protocol):
    async def sweep(self) -> int:
        """Remove what has expired; return how many entries went."""
        ...


async def sweep_forever(
    targets: Sequence[Sweepable], interval: float, on_sweep: Callable[[int], None] | None = None
) -> None:
    """Sweep every target each `interval` seconds; one failing target never stops the loop."""
    while True:
        await asyncio.sleep(interval)
        removed = 0
        for target in targets:
            try:
                removed += await target.sweep()
            except Exception:
                log.exception("sweeping %r failed", target)
        if on_sweep is not None:
            on_sweep(removed)

