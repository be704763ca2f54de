"""A read-through cache for the store's hot queries, safe under concurrency and across replicas.

A burst of identical reads (200 browsers or scripts polling ``GET /segments``) used to run the same SQL
200 times, one after another as far as the database was concerned. :func:`cached_read` wraps a query
method of :class:`~services.store.queries.Queries`:

* **Freshness**: every call first reads the data version, ``(count(*), max(updated_at))`` of the
  ``documents`` table (one cheap aggregate). Every write of the store goes through
  :meth:`Projection.apply`, which bumps ``updated_at`` of each document it touches (segments and
  corrections included), so any write, by any replica, changes the version and misses the cache. There
  is no time-based staleness: a read never returns data older than the version it just read.
* **Single flight**: concurrent misses of the same key wait for the first one instead of running the
  same query again.
* **Bounded**: at most ``MAX_ENTRIES`` results per engine, least recently used dropped first.

Arguments must be hashable (the filters are frozen dataclasses); results are shared between callers and
must be treated as read-only.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from services.store.models import Document, table_of

MAX_ENTRIES = 512
#: Off only for measurements (``tools/bench/store_concurrency.py --no-cache`` gives the uncached figures).
ENABLED = True
DOCS = table_of(Document)

P = ParamSpec("P")
R = TypeVar("R")


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: OrderedDict[Hashable, Any] = OrderedDict()
        self.flights: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0


_caches: weakref.WeakKeyDictionary[Engine, _Cache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache_for(engine: Engine) -> _Cache:
    with _caches_lock:
        cache = _caches.get(engine)
        if cache is None:
            cache = _caches[engine] = _Cache()
        return cache


def data_version(engine: Engine) -> tuple[Any, ...]:
    """Changes whenever the store writes anything (see the module docstring)."""
    with engine.connect() as conn:
        row = conn.execute(select(func.count(), func.max(DOCS.c.updated_at)).select_from(DOCS)).one()
    return tuple(row)


def cache_stats(engine: Engine) -> dict[str, int]:
    cache = _cache_for(engine)
    return {"hits": cache.hits, "misses": cache.misses, "entries": len(cache.entries)}


def cached_read(
    fn: Callable[Concatenate[Any, P], R],
) -> Callable[Concatenate[Any, P], R]:
    """Cache a query method (``self.engine`` is the database) by its arguments and the data version."""

    @functools.wraps(fn)
    def wrapper(self: Any, *args: P.args, **kwargs: P.kwargs) -> R:
        if not ENABLED:
            return fn(self, *args, **kwargs)
        engine: Engine = self.engine
        cache = _cache_for(engine)
        try:
            key: Hashable = (fn.__name__, data_version(engine), args, tuple(sorted(kwargs.items())))
            hash(key)
        except TypeError:  # unhashable arguments: no caching
            return fn(self, *args, **kwargs)
        with cache.lock:
            if key in cache.entries:
                cache.entries.move_to_end(key)
                cache.hits += 1
                return cache.entries[key]
            flight = cache.flights.setdefault(key, threading.Lock())
        with flight:  # one query per key at a time; the others find its result below
            with cache.lock:
                if key in cache.entries:
                    cache.hits += 1
                    return cache.entries[key]
            try:
                result = fn(self, *args, **kwargs)
            except BaseException:
                with cache.lock:
                    cache.flights.pop(key, None)
                raise
            with cache.lock:
                cache.misses += 1
                cache.entries[key] = result
                cache.flights.pop(key, None)
                while len(cache.entries) > MAX_ENTRIES:
                    cache.entries.popitem(last=False)
            return result

    return wrapper
