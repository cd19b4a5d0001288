"""Where a loaded household sits on the map, and its row for the households table.

Extraction files carry no address, and the hexagon micro-maps need a point: each household
gets one inside its 읍면동, drawn from a hash of (pseudonymous id, 읍면동), so the same
household in the same 읍면동 always gets the same point, whatever else the file holds, and
without a Python object per household (a national file has 24 M).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from blindspot.db.store import Store
from blindspot.ingest import sql

_FNV_OFFSET, _FNV_PRIME = np.uint64(0xCBF29CE484222325), np.uint64(0x100000001B3)


def text_hash(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """64-bit FNV-1a of each string's UTF-8 bytes (uint64), vectorised over the strings: one
    pass per character position, so 24 M ids take seconds where pandas' object hashing took
    minutes.  Fixed by its definition, so a household's point never moves with a library.

    >>> hex(int(text_hash(pa.array(["a"]))[0]))  # the published FNV-1a test value
    '0xaf63dc4c8601ec8c'
    """
    arr = (values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values).cast(pa.large_string())
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if arr.buffers()[2] is not None else np.zeros(0, np.uint8)
    starts, lengths = offsets[:-1], np.diff(offsets)
    h = np.full(n, _FNV_OFFSET, dtype=np.uint64)
    live = np.arange(n)
    for j in range(int(lengths.max()) if n else 0):
        live = live[lengths[live] > j]
        h[live] = (h[live] ^ data[starts[live] + j]) * _FNV_PRIME
    return h


def _mix(h: np.ndarray, k: int) -> np.ndarray:
    """The k-th splitmix64 output from seed ``h``: independent-looking 64-bit values per k."""
    with np.errstate(over="ignore"):
        z = h + np.uint64((k + 1) * 0x9E3779B97F4A7C15 % (1 << 64))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


class _HashUniforms:
    """Stands in for a numpy Generator: uniforms from a hash of each (pseudonymous id, 읍면동),
    so a household always gets the same point in its 읍면동, whatever else the file holds."""

    def __init__(self, keys: pa.Array | pa.ChunkedArray) -> None:
        self.hash = text_hash(keys)
        self.calls = 0

    def random(self, n: int) -> np.ndarray:
        z = _mix(self.hash, self.calls)
        self.calls += 1
        return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def household_points(store: Store, ids: pa.Array, emd: pa.Array) -> np.ndarray:
    """A point (lon, lat) inside each household's 읍면동 (``ids`` pseudonymous ids, ``emd``
    their 읍면동 codes, Arrow strings): files carry no address, and the hexagon micro-maps
    need one.  Deterministic per (pseudo_id, 읍면동)."""
    import shapely

    from blindspot.demo.areas import PointSampler

    owners, codes = pd.factorize(emd.to_pandas(types_mapper=pd.ArrowDtype), sort=True)
    geoms = dict(store.rows(sql.INGEST_EMD_GEOMETRY))
    sampler = PointSampler(np.array([shapely.from_wkb(geoms[c]) for c in codes]))
    keys = pc.binary_join_element_wise(ids, emd, pa.scalar("|", pa.string()))
    return sampler.sample(_HashUniforms(keys), owners)  # type: ignore[arg-type]


def _text(series: pd.Series) -> pa.Array:
    """A text column as an Arrow string array without a Python object per value (a national
    file has 24 M rows): zero-copy when the column is already Arrow-backed."""
    return pa.array(series.astype("str").array, pa.string()) if series.dtype != "string" else pa.array(series.array)


def household_table(store: Store, households: pd.DataFrame) -> pa.Table:
    ids = _text(households["pseudo_id"]).cast(pa.string())
    emd = _text(households["emd_code"]).cast(pa.string())
    xy = household_points(store, ids, emd)
    return pa.table(
        {
            "pseudo_id": ids,
            "sido_code": pc.utf8_slice_codeunits(emd, 0, 2).dictionary_encode(),
            "sgg_code": pc.utf8_slice_codeunits(emd, 0, 5).dictionary_encode(),
            "emd_code": emd.dictionary_encode(),
            "head_age": pa.array(households["head_age"].to_numpy(np.int16)),
            "head_sex": _text(households["head_sex"]).dictionary_encode(),
            "household_size": pa.array(households["household_size"].to_numpy(np.int16)),
            "one_person": pa.array(households["one_person"].to_numpy(bool)),
            "housing_type": _text(households["housing_type"]).dictionary_encode(),
            "welfare_status": _text(households["welfare_status"]).dictionary_encode(),
            "lon": pa.array(xy[:, 0]),
            "lat": pa.array(xy[:, 1]),
        }
    )
