"""``blindspot.app.cache.cached``: the page calls' shared Streamlit cache keeps every
function's entries while other functions are called (no function may empty the others)."""

import pytest
import streamlit as st

from blindspot.app import cache


@pytest.fixture()
def offline(monkeypatch):
    """The decorated functions without a database: a fixed version path, no store."""
    monkeypatch.setattr(cache, "_path", lambda: "/nowhere/v1.duckdb")
    monkeypatch.setattr(cache, "_store", lambda path: None)
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def test_calls_of_other_functions_keep_an_entry(offline):
    computed = []

    @cache.cached(stamps=())
    def first(store, x):
        computed.append(("first", x))
        return x * 2

    @cache.cached("그리는 중…", stamps=())
    def second(store, x):
        computed.append(("second", x))
        return x + 1

    assert first(3) == 6 and second(3) == 4 and first(3) == 6 and first(x=3) == 6
    assert second(4) == 5 and first(3) == 6
    # Each (function, arguments) computed once: the same arguments of another function are
    # another entry, and no call emptied the cache (a per-function limit once did).
    assert computed == [("first", 3), ("second", 3), ("second", 4)]
