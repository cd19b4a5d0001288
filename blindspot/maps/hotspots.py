"""Hot and cold spots of 읍면동 rates from the store: the values in view, their queen
neighbours (``region_adjacency``), then the statistics of :mod:`blindspot.maps.spatial`.
"""

from __future__ import annotations

import pandas as pd

from blindspot.access import Scope, narrow, scope_sql
from blindspot.db import sql as db_sql
from blindspot.db.store import Store
from blindspot.maps import data as mapdata
from blindspot.maps import sql
from blindspot.maps.spatial import PERMUTATIONS, SEED, emerging, getis_ord, gi_star_series, local_moran

# --- from the store ---------------------------------------------------------------------------


def adjacency(store: Store, scope: Scope) -> list[tuple[str, str]]:
    """Queen neighbour pairs of the 읍면동 inside the scope."""
    cond, params = scope_sql(scope, "left(emd_code, 5)")
    ncond, nparams = scope_sql(scope, "left(neighbor_code, 5)")
    return [
        (str(a), str(b))
        for a, b in store.rows(sql.EMD_ADJACENCY.format(scope=cond, neighbor_scope=ncond), [*params, *nparams])
    ]


def emd_values(store: Store, scope: Scope, round_id: int, measure: str, area: str | None = None) -> pd.DataFrame:
    """The measure per 읍면동 (code, name, full_name, value) for the scope and area."""
    df = mapdata.region_measures(store, scope, "emd", round_id, area=area)
    return df[["code", "name", "full_name", measure]].rename(columns={measure: "value"})


def hotspots(
    store: Store,
    scope: Scope,
    round_id: int,
    measure: str,
    area: str | None = None,
    method: str = "gi",
    permutations: int = PERMUTATIONS,
    seed: int = SEED,
) -> pd.DataFrame:
    """Gi* (``method="gi"``) or local Moran (``"moran"``) classes of every 읍면동 in view.

    Example: ``hotspots(store, Scope.all_areas(), 20243, "one_person_share")`` has 3,558
    rows; islands such as 울릉군's 읍면 are ``not_tested``.
    """
    view = narrow(store, scope, area)
    vals = emd_values(store, view, round_id, measure)
    series = vals.set_index("code")["value"]
    pairs = adjacency(store, view)
    fn = getis_ord if method == "gi" else local_moran
    res = fn(series, pairs, permutations, seed)
    return vals[["code", "name", "full_name"]].merge(res, on="code")


def emerging_hotspots(
    store: Store,
    scope: Scope,
    round_id: int,
    measure: str,
    area: str | None = None,
    n_rounds: int = 6,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Emerging hotspots over the last ``n_rounds`` loaded rounds up to ``round_id``:
    Gi* z per round (analytical, no permutations needed for the trend), then
    :func:`emerging`.  Columns: code, name, full_name, tau, p, z_first, z_last, emerging,
    and one ``z_<round_id>`` column per round.
    """
    view = narrow(store, scope, area)
    rounds = [r for (r, _) in store.rows(db_sql.ROUNDS_UP_TO, [int(round_id)])][-n_rounds:]
    pairs = adjacency(store, view)
    names = None
    zs = {}
    for r in rounds:
        vals = emd_values(store, view, int(r), measure)
        names = vals[["code", "name", "full_name"]] if names is None else names
        zs[f"z_{r}"] = gi_star_series(vals.set_index("code")["value"].astype("float64"), pairs)
    z_frame = pd.DataFrame(zs)
    trend = emerging(z_frame, alpha)
    return names.merge(trend, on="code").merge(z_frame, left_on="code", right_index=True)
