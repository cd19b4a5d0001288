"""One cache for what pages read: :func:`cached` turns a function of ``(store, ...)`` into
a page call of ``(...)`` whose result Streamlit keeps (``st.cache_data``) per database,
build and arguments.

``cache_resource`` holds only the thread-safe store (one read-only connection per snapshot
version; each session thread gets its own cursor).  Every call resolves the snapshot link
again (one ``readlink``), so a version a loader publishes is used from the next page run
on, without a restart, and every cache key names the version it was computed from.

Cached results are keyed by plain values: the version's file, the stamps the function
depends on (the build and the outcomes entered anywhere, the model in service, this
session's saved targets), and the arguments, a :class:`~blindspot.access.Scope` turned into its fields.
They expire after :data:`TTL` seconds; :func:`clear_caches` drops them when data changes.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable

import streamlit as st

from blindspot import config, settings
from blindspot.access import Scope
from blindspot.db import queries
from blindspot.db.snapshots import active_file
from blindspot.db.store import Store, open_store
from blindspot.model import artifacts

TTL = settings.get("cache_ttl_seconds")  # seconds a cached result is kept: new data also clears it (clear_caches)


_opened: list[Store] = []  # versions this process opened, oldest first
_KEEP_OPEN = 2  # the active version and the one before (sessions mid-query may still read it)


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    """The read-only store of one snapshot version (``path`` is the resolved file)."""
    opened = open_store(path, read_only=True)
    _opened.append(opened)
    for old in _opened[:-_KEEP_OPEN]:
        # An app process lives for months of rounds: versions it no longer reads are closed.
        _opened.remove(old)
        with contextlib.suppress(Exception):
            old.close()
    return opened


def _path() -> str:
    """The active snapshot version's file (see :mod:`blindspot.db.snapshots`)."""
    return str(active_file(config.db_path()))


def store() -> Store:
    """The store of the configured database's active version (``BLINDSPOT_DB``)."""
    return _store(_path())


def clear_caches() -> None:
    st.cache_data.clear()


@st.cache_data(ttl=TTL, show_spinner=False)
def _data_info(path: str) -> dict:
    return queries.data_info(_store(path))


def data_info() -> dict:
    """What the database holds (kind, build stamp, seed, partial rounds); keyed by the
    version's file only, because its build stamp is what every other key depends on."""
    return _data_info(_path())


# --- keys -------------------------------------------------------------------------------------


def _key(value):
    """A hashable, picklable stand-in for an argument (a Scope becomes its fields)."""
    if isinstance(value, Scope):
        codes = tuple(sorted(value.sgg_codes)) if value.sgg_codes else None
        # Who asks does not change an aggregate: officials of one district share entries.
        return ("__scope__", codes, value.household_level, value.min_count, value.role)
    if isinstance(value, list):
        return tuple(value)
    return value


def _unkey(value):
    if isinstance(value, tuple) and value and value[0] == "__scope__":
        _, codes, household_level, min_count, role = value
        return Scope(frozenset(codes) if codes else None, household_level, min_count, role=role)
    return value


STAMPS: dict[str, Callable[[], object]] = {
    # the snapshot version is in the path; outcomes entered in any process change it too
    "build": lambda: (data_info().get("built_at", ""), store().entered_stamp()),
    # the model in service: rescoring with a new model shows at once
    "model": lambda: artifacts.in_service(store()),
    # this session's last saved briefing targets: the table shows the new targets at once
    "targets": lambda: st.session_state.get("targets_saved_at", 0.0),
}


def cached(spinner: str | bool = False, *, stamps: tuple[str, ...] = ("build",)):
    """Decorate ``fn(store, *args)``; the page calls ``fn(*args)``.

    Arguments are bound to ``fn``'s signature (defaults applied), so a call by keyword and
    one by position share an entry.  ``stamps`` name the :data:`STAMPS` the result depends on.

    No per-function ``max_entries``: every decorated function shares one Streamlit cache
    (one ``run`` code), and Streamlit replaces a cache, dropping every entry, whenever a call
    asks for other limits than the last one, so one bounded function emptied every page's
    cache (a briefing visit made the next map cold).  Entries are bounded by :data:`TTL`.
    """

    def decorate(fn):
        signature = inspect.signature(fn)

        # Streamlit keys a cache by the function's code, the same for every ``run``: the
        # decorated function's name is therefore part of the (hashed) arguments.
        @st.cache_data(ttl=TTL, show_spinner=spinner)
        def run(path: str, name: str, stamp: tuple, args: tuple):
            return fn(_store(path), *(_unkey(a) for a in args))

        @functools.wraps(fn)
        def call(*args, **kwargs):
            bound = signature.bind(None, *args, **kwargs)
            bound.apply_defaults()
            key = tuple(_key(a) for a in bound.args[1:])
            return run(_path(), f"{fn.__module__}.{fn.__qualname__}", tuple(STAMPS[s]() for s in stamps), key)

        return call

    return decorate
