"""The validation report: one row per problem (file, row, column, value, Korean message).

Every text taken from the refused file goes through :func:`blindspot.ingest.readers.echo`
(personal-data shapes masked, control characters escaped, length capped) before it reaches
a report row, the screen or the downloadable CSV.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from blindspot import glossary
from blindspot.ingest.readers import Problem, echo

REPORT_COLUMNS = ["file", "row", "column", "value", "message"]
REPORT_LABELS = glossary.REPORT_LABELS


# Canonical column → accepted header spellings (Korean systems export Korean headers).
def empty_report() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in REPORT_COLUMNS})


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    if not problems:
        return empty_report()
    return _echoed(
        pd.DataFrame([[p.file, p.row, p.column, p.value, p.message] for p in problems], columns=REPORT_COLUMNS)
    )


def _echoed(report: pd.DataFrame) -> pd.DataFrame:
    """Every text taken from the file (name, column, value) through :func:`readers.echo`:
    personal-data shapes masked, control characters escaped, length capped."""
    report = report.copy()
    for column in ("file", "column", "value"):
        # Reports repeat the same few texts (file name, column names): echo each once.
        values = pd.Series(report[column].astype(object).to_numpy())
        uniques = values.dropna().unique()
        safe = dict(zip(uniques, (echo(v) for v in uniques), strict=False))
        report[column] = [
            None if pd.isna(v) else safe.get(v, echo(v)) if isinstance(v, str) else echo(v) for v in values
        ]
    return report


def problem_rows(file: str, rows, column, values, message) -> pd.DataFrame:
    rows = np.asarray(rows)
    return pd.DataFrame(
        {
            "file": file,
            "row": rows,
            "column": column,
            "value": pd.Series(values, dtype="object").astype("string").astype(object).to_numpy() if len(rows) else [],
            "message": message,
        }
    )


def finish_report(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if p is not None and not p.empty]
    if not parts:
        return empty_report()
    out = _echoed(pd.concat(parts, ignore_index=True)[REPORT_COLUMNS])
    out["row"] = pd.to_numeric(out["row"], errors="coerce").astype("Int64")
    out = out.sort_values(["row", "column"], na_position="first", kind="stable").reset_index(drop=True)
    return out


def report_csv(report: pd.DataFrame) -> bytes:
    """The report as CSV for download, Korean headers, UTF-8 with BOM so Excel shows Hangul.

    >>> report_csv(problems_frame([Problem("a.csv", 3, "head_age", "x", "정수가 아닙니다")]))[:3] == b"\\xef\\xbb\\xbf"
    True
    """
    # Echoed values come from the refused file: a cell like "=HYPERLINK(...)" must not run
    # when the report is opened in a spreadsheet (blindspot.spreadsheet).
    from blindspot.spreadsheet import csv_bytes

    return csv_bytes(report.rename(columns=REPORT_LABELS))


def summary(report: pd.DataFrame, limit: int = 5) -> str:
    """A few lines for a terminal or a banner: count, then the first problems."""
    if report.empty:
        return "문제 없음"
    lines = [f"문제 {len(report):,}건 (파일에 아무것도 적재하지 않았습니다)"]
    for rec in report.head(limit).itertuples(index=False):
        where = f"{rec.row}행 " if pd.notna(rec.row) else ""
        col = f"'{rec.column}' " if rec.column else ""
        val = f"값 {rec.value!r}: " if rec.value is not None and pd.notna(rec.value) else ""
        lines.append(f"  {rec.file} {where}{col}{val}{rec.message}")
    if len(report) > limit:
        lines.append(f"  … 외 {len(report) - limit:,}건")
    return "\n".join(lines)


def report_view(report: pd.DataFrame, limit: int = 1000) -> pd.DataFrame:
    """The first ``limit`` problems with Korean column names, for a table on screen (the
    download holds all of them)."""
    return report.head(limit).rename(columns=REPORT_LABELS)
