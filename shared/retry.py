"""One retry helper for every stage: exponential backoff, capped, for a bounded or unbounded number of tries.

Stages use it in two ways: a bounded number of attempts for a handler that may fail on one record (then the
record is dead-lettered), and unbounded waiting for a dependency that is away (broker, database), where
giving up would lose work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Delays ``base_s, 2*base_s, 4*base_s, ...`` capped at ``cap_s``."""

    base_s: float = 0.5
    cap_s: float = 30.0

    def delays(self) -> Iterator[float]:
        delay = self.base_s
        while True:
            yield delay
            delay = min(delay * 2, self.cap_s)


async def retry(
    op: Callable[[], Awaitable[T]],
    *,
    what: str,
    backoff: Backoff,
    attempts: int | None = None,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    never: tuple[type[BaseException], ...] = (),
    on_failure: Callable[[], Awaitable[None]] | None = None,
    logger: logging.Logger = log,
) -> T:
    """Run ``op`` until it returns. Exceptions in ``retry_on`` (and not in ``never``) are retried after the
    next delay, at most ``attempts`` times in all (``None``: until it works or the task is cancelled);
    anything else, and the last failure, is raised. ``on_failure`` runs after each failed attempt (cleanup)."""
    delays = backoff.delays()
    attempt = 0
    while True:
        attempt += 1
        try:
            return await op()
        except asyncio.CancelledError:
            raise
        except never:
            raise
        except retry_on as exc:
            if on_failure is not None:
                await on_failure()
            if attempts is not None and attempt >= attempts:
                raise
            delay = next(delays)
            logger.warning(
                "%s failed (attempt %d); retrying in %.1f s: %s",
                what,
                attempt,
                delay,
                repr(exc)[:300],
                extra={"what": what, "attempt": attempt, "delay_s": delay},
            )
            await asyncio.sleep(delay)
