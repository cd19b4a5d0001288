"""Reading Parquet extraction files into text cells (:class:`~blindspot.ingest.readers.RawTable`).

The footer is checked before anything is read (rows per stored byte, expanded size, column
types), so a hostile file is refused in milliseconds.  :func:`parquet_pieces` reads the file
in row batches, so a national round (24 M households) is validated piece by piece instead of
being held as text all at once (:mod:`blindspot.ingest.pieces`).
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute.cast below

from blindspot import config
from blindspot.ingest.readers import Problem, RawTable, ReadError, check_names, check_rows, echo, too_big

_PARQUET_TEXT_TYPES = (
    pa.types.is_string,
    pa.types.is_large_string,
    pa.types.is_integer,
    pa.types.is_floating,
    pa.types.is_boolean,
    pa.types.is_decimal,
    pa.types.is_date,
    pa.types.is_timestamp,
    pa.types.is_dictionary,
    pa.types.is_null,
)


def _parquet_type_ok(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return _parquet_type_ok(t.value_type)
    return any(is_(t) for is_ in _PARQUET_TEXT_TYPES)


def _unreadable(name: str, exc: BaseException) -> ReadError:
    return ReadError(
        [
            Problem(
                name,
                None,
                None,
                None,
                (
                    f"Parquet 파일을 읽을 수 없습니다 ({type(exc).__name__}). "
                    "파일이 잘렸거나(전송 중단) Parquet 형식이 "
                    "아닙니다. 원본에서 다시 내려받으세요."
                ),
            )
        ]
    )


_PARQUET_ERRORS = (pa.ArrowException, OSError, ValueError, TypeError, IndexError)


def open_parquet(data: bytes, name: str):
    """A ``pyarrow.parquet.ParquetFile`` over ``data`` once its footer passed every check
    that needs no reading: rows per byte, expanded size, column types."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(io.BytesIO(data))
        meta = pf.metadata
        schema = pf.schema_arrow
    except _PARQUET_ERRORS as exc:
        raise _unreadable(name, exc) from None
    # The footer says how many rows and bytes the file expands to: check before reading.
    check_rows(name, meta.num_rows, len(data))
    expanded = sum(meta.row_group(g).total_byte_size for g in range(meta.num_row_groups))
    max_bytes = config.ingest_limit("BLINDSPOT_INGEST_MAX_PARQUET_BYTES")
    if expanded > max_bytes:
        raise too_big(
            name,
            f"Parquet 파일의 열 자료가 풀면 {expanded:,}바이트로 한도 {max_bytes:,}바이트를 넘습니다",
            "BLINDSPOT_INGEST_MAX_PARQUET_BYTES",
        )
    wrong = [(f.name, f.type) for f in schema if not _parquet_type_ok(f.type)]
    if wrong:
        raise ReadError(
            [
                Problem(
                    name,
                    1,
                    echo(str(n), 40),
                    str(t)[:40],
                    (
                        f"열 '{echo(str(n), 40)}' 의 자료형({str(t)[:40]})은 받을 수 없습니다. "
                        "목록·구조체·바이너리가 아닌 "
                        "글자·정수 열로 저장하세요 (형식: docs/ingest-format.md)."
                    ),
                )
                for n, t in wrong[:50]
            ]
        )
    return pf


def read_parquet(data: bytes, name: str) -> RawTable:
    pf = open_parquet(data, name)
    try:
        table = pf.read()
    except _PARQUET_ERRORS as exc:
        raise _unreadable(name, exc) from None
    names = [str(n).strip() for n in table.column_names]
    check_names(names, name)
    out = parquet_text(table, names, name)
    return RawTable(name, "parquet", out, np.arange(2, out.num_rows + 2, dtype=np.int64))


def parquet_pieces(data: bytes, name: str, rows: int) -> Iterator[RawTable]:
    """The Parquet file in pieces of at most ``rows`` rows, each as text cells with its own
    file row numbers: a national file is never held as text all at once."""
    pf = open_parquet(data, name)
    names = [str(n).strip() for n in pf.schema_arrow.names]
    check_names(names, name)
    start = 0
    try:
        for batch in pf.iter_batches(batch_size=rows):
            table = parquet_text(pa.Table.from_batches([batch]), names, name)
            yield RawTable(name, "parquet", table, np.arange(start + 2, start + 2 + table.num_rows, dtype=np.int64))
            start += table.num_rows
    except _PARQUET_ERRORS as exc:
        raise _unreadable(name, exc) from None
    if start == 0:
        empty = pa.table({n: pa.array([], pa.string()) for n in names})
        yield RawTable(name, "parquet", empty, np.arange(0, dtype=np.int64))


def parquet_text(table: pa.Table, names: list[str], name: str) -> pa.Table:
    """A Parquet table (or one batch of it) as text cells, so that types are decided by
    validation the same way for every format: integral floats become integers first, a
    column that cannot become text is refused by name."""
    cols = []
    for n, col in zip(names, table.columns, strict=False):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        if pa.types.is_dictionary(col.type):
            col = col.dictionary_decode()
        if pa.types.is_boolean(col.type):
            col = pa.compute.cast(col, pa.int8())
        if pa.types.is_floating(col.type):
            # 3.0 → "3": integral floats are common when a tool stores integers with gaps as float.
            # Only below 2**53 (exact in a float and in int64): 1e300 stays "1e+300" and is
            # reported as not an integer instead of overflowing into a wrong number.
            arr = col.to_numpy(zero_copy_only=False).astype(np.float64)
            with np.errstate(invalid="ignore"):
                integral = np.isfinite(arr) & (np.abs(arr) < 2.0**53) & (arr == np.round(arr))
            if integral[~np.isnan(arr)].all():
                col = pa.array(np.where(integral, arr, 0).astype(np.int64), mask=~integral)
        try:
            cols.append(pa.compute.cast(col, pa.string()) if col.type != pa.string() else col)
        except (pa.ArrowException, ValueError, OverflowError):
            raise ReadError(
                [
                    Problem(
                        name,
                        1,
                        echo(n, 40),
                        str(col.type)[:40],
                        (
                            f"열 '{echo(n, 40)}' 의 값을 글자로 바꿀 수 없습니다 (자료형 {str(col.type)[:40]}). "
                            "글자·정수 열로 "
                            "저장하세요."
                        ),
                    )
                ]
            ) from None
    return pa.table(dict(zip(names, cols, strict=False))) if cols else pa.table({})
