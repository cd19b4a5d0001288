"""Map and hotspot timings for ``bench --json``.

A "view" is what the server does for one map: the measures query, the simplified
layer, colouring and the Deck serialised to the JSON the browser receives.
*Cold* is the first view in a process whose modules are imported but whose caches are
empty (the layer cache, DuckDB's buffers); *warm* is the same view again with the
measures taken from the page cache (as :func:`blindspot.app.data.map_view`'s cache serves them)
and the layer from memory.  ``map_sido_query_ms`` gives the warm query alone, in case
the page cache has expired.
"""

from __future__ import annotations

import statistics
import time

from blindspot.access import Scope, narrow
from blindspot.db.store import Store
from blindspot.maps import data as mapdata
from blindspot.maps import hotspots
from blindspot.maps import render as maps

MEASURE = "one_person_share"


def _view_ms(
    store: Store, scope, level: str, round_id: int, area: str | None, cached_view=None
) -> tuple[float, object, int]:
    t = time.perf_counter()
    view = cached_view if cached_view is not None else mapdata.map_view(store, scope, level, round_id, MEASURE, area)
    layer = maps.layer_geometries(store, narrow(store, scope, area), level)
    deck, _ = maps.choropleth(view, layer, "1인 가구 비율", "share")
    size = len(deck.to_json().encode("utf-8"))
    return (time.perf_counter() - t) * 1000, view, size


def map_timings(store: Store, sgg_code: str | None = None, repeat: int = 5) -> dict:
    """Timings of the map views and Gi* on an open store (see the module docstring)."""
    scope = Scope.all_areas()
    round_id = int(store.scalar("SELECT max(round_id) FROM rounds"))
    maps.clear_layer_cache()
    sido_cold, view, _ = _view_ms(store, scope, "sido", round_id, None)
    sido_warm = statistics.median(_view_ms(store, scope, "sido", round_id, None, view)[0] for _ in range(repeat))
    query = []
    for _ in range(repeat):
        t = time.perf_counter()
        mapdata.map_view(store, scope, "sido", round_id, MEASURE)
        query.append((time.perf_counter() - t) * 1000)
    if sgg_code is None:
        by_sgg = mapdata.region_measures(store, scope, "sgg", round_id)
        sgg_code = str(by_sgg.sort_values("households", ascending=False).iloc[0]["code"])
    sgg_cold, _, _ = _view_ms(store, scope, "emd", round_id, sgg_code)
    emd_ms, _, emd_bytes = _view_ms(store, scope, "emd", round_id, None)
    t = time.perf_counter()
    res = hotspots.hotspots(store, scope, round_id, MEASURE, permutations=999)
    gistar = time.perf_counter() - t
    return {
        "map_sido_cold_ms": round(sido_cold, 1),
        "map_sido_warm_ms": round(sido_warm, 1),
        "map_sido_query_ms": round(statistics.median(query), 1),
        "map_sgg_cold_ms": round(sgg_cold, 1),
        "map_sgg_code": sgg_code,
        "map_emd_national_ms": round(emd_ms, 1),
        "emd_layer_bytes": emd_bytes,
        "gistar_seconds": round(gistar, 2),
        "gistar_areas": int(len(res)),
        "gistar_tested": int((res["cls"] != "not_tested").sum()),
    }
