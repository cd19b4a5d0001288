"""Validating a households file piece by piece, so that a national round fits in memory.

A national extraction (24 M households, 54 columns) is ~1.3 billion cells: as text it is
~7 GB and as a typed frame more, and the whole-file check was killed at 18.7 GB.  Here a
wide file is read in pieces of ``validation_piece_rows`` rows (Parquet row batches; CSV and
XLSX, which are read whole, in slices), each piece is checked on its own, and only what a
load needs is kept: the typed households, their signals (value ≠ 0) and the ids.  The one
check that spans pieces, repeated household ids, runs once over all ids at the end, so
the report is the one a whole-file check gives.

A long file (one row per household and indicator) is checked whole: a household's rows may
sit in any piece, and its attributes must agree across them.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

import numpy as np
import pandas as pd
import pyarrow as pa

from blindspot import settings
from blindspot.indicators.catalogue import Catalogue
from blindspot.ingest.readers import RawTable, file_format, read_table
from blindspot.ingest.report import finish_report
from blindspot.ingest.validation import Checked, check_households, duplicate_ids, layout_of
from blindspot.progress import ProgressFn, silent


def pieces(data: bytes, name: str, rows: int) -> Iterator[RawTable]:
    """The file's data rows in pieces of at most ``rows`` rows (at least one piece, maybe
    empty), each with its own file row numbers; rows that could not be read at all are
    reported with the first piece."""
    if file_format(name) == "parquet":
        from blindspot.ingest.parquet import parquet_pieces

        yield from parquet_pieces(data, name, rows)
        return
    raw = read_table(data, name)
    for start in range(0, max(len(raw), 1), rows):
        yield RawTable(
            raw.file,
            raw.format,
            raw.table.slice(start, rows),
            raw.row_numbers[start : start + rows],
            raw.encoding,
            raw.problems if start == 0 else [],
        )


def _joined(first: RawTable, rest: Iterator[RawTable]) -> RawTable:
    parts = [first, *rest]
    return RawTable(
        first.file,
        first.format,
        pa.concat_tables([p.table for p in parts]),
        np.concatenate([p.row_numbers for p in parts]),
        first.encoding,
        first.problems,
    )


def check_households_file(
    data: bytes,
    name: str,
    emd_codes: frozenset[str],
    catalogue: Catalogue,
    rows: int | None = None,
    progress: ProgressFn = silent,
) -> Checked:
    """Read and check a households file in pieces; the same result as
    ``check_households(read_table(data, name), ...)`` with far less memory.

    ``rows`` is the piece size (default: the ``validation_piece_rows`` setting).  Raises
    :class:`~blindspot.ingest.readers.ReadError` when the file cannot be read at all.
    ``progress`` gets the fraction of pieces done (0..1).
    Example: ``check_households_file(data, "가구.parquet", codes, catalogue).households``.
    """
    rows = rows or settings.get("validation_piece_rows")
    it = pieces(data, name, rows)
    first = next(it)
    if layout_of(first, catalogue) == "long":
        return check_households(_joined(first, it), emd_codes, catalogue)
    done: list[Checked] = []
    ids: list[pd.Series] = []
    read = 0
    for piece in chain([first], it):
        checked = check_households(piece, emd_codes, catalogue, duplicates=False)
        if checked.ids is None:
            # A header problem or an empty file: the same for every piece, and nothing to load.
            return checked
        done.append(checked)
        ids.append(checked.ids)
        read += checked.rows
        progress(min(read / max(read + rows, 1), 0.99), f"{read:,}행 검사")
    report = finish_report([*(c.report for c in done), duplicate_ids(first.file, pd.concat(ids).to_frame())])
    if not report.empty:
        return Checked("households", "wide", read, None, None, None, report)
    return Checked(
        "households",
        "wide",
        read,
        pd.concat([c.households for c in done], ignore_index=True),
        pd.concat([c.observations for c in done], ignore_index=True),
        None,
        report,
        np.concatenate([c.household_rows for c in done]),
    )
