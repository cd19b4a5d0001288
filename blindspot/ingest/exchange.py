"""Files in the ingest format (docs/ingest-format.md) from a database, and back to figures.

``export_round`` writes one round as a households file (wide or long) and an outcomes
file, in CSV, XLSX or Parquet: the sample files of the format, and the first half of the
round-trip test.  ``round_aggregates`` gives what a round holds per 읍면동, so two
databases can be compared after a round trip.  ``bench_file`` makes a large valid file
for the ingest benchmark.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from blindspot import rounds, vocab
from blindspot.access import Scope, scope_sql, scope_sql_named
from blindspot.db.store import Store
from blindspot.errors import BlindspotError
from blindspot.indicators.catalogue import Catalogue, load_catalogue
from blindspot.ingest import sql
from blindspot.spreadsheet import neutralise_frame, xlsx_text_cell

XLSX_MAX_ROWS = 1_048_575  # one sheet, below the header row


def _round_queries(
    store: Store, scope: Scope, round_code: str, long: bool, catalogue: Catalogue | None
) -> tuple[str, str, dict]:
    """The households and visits statements of one round in the scope, with their parameters."""
    scope.require_household_level()
    catalogue = catalogue or load_catalogue()
    r = rounds.parse_round(round_code)
    if not store.scalar(sql.INGEST_ROUND_EXISTS, [r.round_id]):
        raise BlindspotError(f"데이터베이스에 없는 차수입니다: {r.code}.")
    # One set of names binds the scope on households, signals and visits alike.
    cond_h, params = scope_sql_named(scope, "h.sgg_code", "s")
    cond_o, _ = scope_sql_named(scope, "o.sgg_code", "s")
    cond_v, _ = scope_sql_named(scope, "v.sgg_code", "s")
    if long:
        hh = sql.EXPORT_HOUSEHOLDS_LONG.format(scope=cond_h, obs_scope=cond_o)
    else:
        pivot = ", ".join(f"max(value) FILTER (WHERE indicator_code = '{c}') AS {c}" for c in catalogue.codes)
        hh = sql.EXPORT_HOUSEHOLDS_WIDE.format(pivot=pivot, scope=cond_h, obs_scope=cond_o)
    return hh, sql.EXPORT_VISITS.format(scope=cond_v), {"t": r.round_id, **params}


def _int64(table: pa.Table | pa.RecordBatch, ints: set[str]):
    """Indicator values as 64-bit integers, as the file format documents them."""
    schema = pa.schema([pa.field(f.name, pa.int64()) if f.name in ints else f for f in table.schema])
    return table.cast(schema)


def round_frames(
    store: Store, scope: Scope, round_code: str, long: bool = False, catalogue: Catalogue | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(households, outcomes) of one round, within the caller's scope, as the ingest format's
    columns (codes, not labels).  Household-level rows: an aggregates-only scope is refused.

    Example: ``round_frames(st, Scope.district(["36110"]), "2024-R3")`` is 세종시's round.
    """
    hh_sql, visits_sql, params = _round_queries(store, scope, round_code, long, catalogue)
    hh = store.df(hh_sql, params)
    for code in ["value"] if long else list((catalogue or load_catalogue()).codes):
        hh[code] = hh[code].astype("Int64")
    return hh, store.df(visits_sql, params)


def _unknown_format(fmt: str) -> BlindspotError:
    return BlindspotError(f"형식은 csv, xlsx, parquet 중 하나여야 합니다 ({fmt!r}).")


def write_frame(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    """One frame as CSV (UTF-8), XLSX (one sheet, header in row 1) or Parquet.

    CSV and XLSX cells that a spreadsheet would run as formulas are neutralised
    (:mod:`blindspot.spreadsheet`); valid ingest-format values (codes, hex ids) never are,
    so the round trip is unchanged.  Parquet is typed data, not opened by spreadsheets,
    and is written as it is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        table = pa.Table.from_pandas(neutralise_frame(frame), preserve_index=False)
        pa_csv.write_csv(table, path, pa_csv.WriteOptions(quoting_style="needed"))
    elif fmt == "parquet":
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    elif fmt == "xlsx":
        if len(frame) > XLSX_MAX_ROWS:
            raise BlindspotError(
                f"엑셀 시트에는 {XLSX_MAX_ROWS:,}행까지만 들어갑니다 (이 차수 {len(frame):,}행). "
                "--format csv 또는 parquet 를 쓰거나 --sgg 로 지역을 나누세요."
            )
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("data")
        ws.append([xlsx_text_cell(ws, str(c)) for c in frame.columns])
        for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None):
            ws.append([xlsx_text_cell(ws, v) for v in row])
        wb.save(path)
    else:
        raise _unknown_format(fmt)


EXPORT_BATCH_ROWS = 1_000_000  # rows per batch written: a national round is never held whole


def _write_stream(reader: pa.RecordBatchReader, path: Path, fmt: str, ints: set[str]) -> int:
    """Write a query's batches as CSV or Parquet, one batch at a time; returns the rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    if fmt == "parquet":
        schema = _int64(reader.schema.empty_table(), ints).schema
        with pq.ParquetWriter(path, schema) as writer:
            for batch in reader:
                writer.write_batch(_int64(batch, ints))
                rows += batch.num_rows
        return rows
    with open(path, "wb") as out:
        header = True
        for batch in reader:
            # Through pandas only for the formula guard; Arrow types keep integers integers.
            frame = neutralise_frame(_int64(batch, ints).to_pandas(types_mapper=pd.ArrowDtype))
            table = pa.Table.from_pandas(frame, preserve_index=False)
            pa_csv.write_csv(table, out, pa_csv.WriteOptions(include_header=header, quoting_style="needed"))
            header, rows = False, rows + batch.num_rows
        if header:
            write_frame(_int64(reader.schema.empty_table(), ints).to_pandas(), path, "csv")
    return rows


def export_round(
    store: Store, scope: Scope, round_code: str, out_dir: Path, fmt: str = "csv", long: bool = False
) -> dict:
    """Write ``households_<round>.<fmt>`` and ``outcomes_<round>.<fmt>`` of the scope's areas
    into ``out_dir``.  CSV and Parquet are written batch by batch straight from the query
    (a national round is 24 M rows); XLSX holds at most one sheet and is built whole.

    Returns the two paths and row counts.  Example:
    ``export_round(st, Scope.district(["36110"]), "2024-R3", Path("samples"), "xlsx")``.
    """
    r = rounds.parse_round(round_code)
    out_dir = Path(out_dir)
    suffix = "_long" if long else ""
    hh_path = out_dir / f"households_{r.code}{suffix}.{fmt}"
    v_path = out_dir / f"outcomes_{r.code}.{fmt}"
    if fmt == "xlsx":
        hh, visits = round_frames(store, scope, r.code, long)
        write_frame(hh, hh_path, fmt)
        write_frame(visits, v_path, fmt)
        n_hh, n_v = len(hh), len(visits)
    elif fmt in ("csv", "parquet"):
        catalogue = load_catalogue()
        hh_sql, visits_sql, params = _round_queries(store, scope, r.code, long, catalogue)
        ints = {"value"} if long else set(catalogue.codes)
        n_hh = _write_stream(store.stream(hh_sql, params, EXPORT_BATCH_ROWS), hh_path, fmt, ints)
        n_v = _write_stream(store.stream(visits_sql, params, EXPORT_BATCH_ROWS), v_path, fmt, set())
    else:
        raise _unknown_format(fmt)
    return {
        "round": r.code,
        "households_file": str(hh_path),
        "households_rows": n_hh,
        "outcomes_file": str(v_path),
        "outcomes_rows": n_v,
    }


def export_round_audited(
    store: Store, scope: Scope, round_code: str, out_dir: Path, fmt: str, long: bool, purpose: str
) -> dict:
    """:func:`export_round` for a person: household-level (pseudonymous) files readable by
    their owner only, and one ``export_round`` audit record with the purpose and the SHA-256
    of both files; returns the result with its ``audit_event``."""
    from blindspot.casework import audit

    result = export_round(store, scope, round_code, out_dir, fmt, long)
    digest = hashlib.sha256()
    for key in ("households_file", "outcomes_file"):
        os.chmod(result[key], 0o600)
        digest.update(Path(result[key]).read_bytes())
    areas = sorted(scope.sgg_codes) if scope.sgg_codes is not None else "전국"
    result["audit_event"] = audit.record(
        scope,
        "export_round",
        {"round": round_code, "format": fmt, "long": long, "sgg": areas},
        result["households_rows"],
        purpose,
        digest.hexdigest(),
        detail=f"{result['households_file']}, {result['outcomes_file']}",
    )
    return result


def round_aggregates(store: Store, scope: Scope, round_id: int) -> dict[str, pd.DataFrame]:
    """Households and one-person households, signals (count and value sum) per indicator,
    and visits per channel and outcome, each per 읍면동 of one round within the scope
    (exact counts, for comparing two databases: not for display)."""
    scope.require_household_level()
    cond, params = scope_sql(scope, "sgg_code")
    return {
        "households": store.df(sql.ROUND_HOUSEHOLDS_PER_EMD.format(scope=cond), [round_id, round_id, *params]),
        "signals": store.df(sql.ROUND_SIGNALS_PER_EMD.format(scope=cond), [round_id, *params]),
        "visits": store.df(sql.ROUND_VISITS_PER_EMD.format(scope=cond), [round_id, *params]),
    }


def bench_file(n: int, emd_codes: list[str], seed: int = 0, catalogue: Catalogue | None = None) -> bytes:
    """A valid wide CSV of ``n`` households spread over ``emd_codes`` (about 0.5 signals
    per household, as in the demo), for the ingest benchmark.

    >>> data = bench_file(3, ["3611051000"])
    >>> data.splitlines()[0][:40]
    b'"pseudo_id","emd_code","head_age","head_'
    """
    catalogue = catalogue or load_catalogue()
    rng = np.random.default_rng(seed)
    size = np.clip(rng.poisson(1.3, n) + 1, 1, 9).astype(np.int16)
    cols: dict[str, object] = {
        "pseudo_id": pa.array([f"B{i:09d}" for i in range(n)]),
        "emd_code": pa.array(np.asarray(emd_codes, dtype=object)[rng.integers(0, len(emd_codes), n)].tolist()),
        "head_age": rng.integers(20, 95, n).astype(np.int16),
        "head_sex": pa.array(np.array(list(vocab.HEAD_SEX))[rng.integers(0, 2, n)].tolist()),
        "household_size": size,
        "one_person": (size == 1).astype(np.int8),
        "housing_type": pa.array(np.array(list(vocab.HOUSING_TYPES))[rng.integers(0, 6, n)].tolist()),
        "welfare_status": pa.array(np.array(list(vocab.WELFARE_STATUS))[rng.integers(0, 3, n)].tolist()),
    }
    for ind in catalogue.indicators:
        present = rng.random(n) < 0.5 / len(catalogue)
        value = {"flag": np.ones(n), "months": rng.integers(1, 24, n), "amount": rng.integers(10_000, 50_000_000, n)}[
            ind.kind
        ]
        cols[ind.code] = pa.array(np.where(present, value, 0).astype(np.int64), mask=~present)
    buf = io.BytesIO()
    pa_csv.write_csv(pa.table(cols), buf)
    return buf.getvalue()
