"""Where things live: database, boundary data, demo defaults.

Resolution order for the boundary data: an explicit path, then the
``BLINDSPOT_GEO_DIR`` environment variable, then ``data/geo`` inside the project,
then ``../shared/geo`` beside the project.  The database defaults to
``data/blindspot.duckdb`` and can be moved with ``BLINDSPOT_DB``.
"""

from __future__ import annotations

import os
from pathlib import Path

from blindspot.errors import GeoDataError

PROJECT_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_DB = PROJECT_DIR / "data" / "blindspot.duckdb"
DEFAULT_MODELS = PROJECT_DIR / "models"

# The embedded demo that `make run` builds: every 읍면동, a tenth of the real households.
DEMO_SCALE = 0.1
DEMO_ROUNDS = 6
DEMO_SEED = 42

# --- limits on extraction files ----------------------------------
# A hostile or broken file must be refused before it is expanded: a compressed XLSX or
# Parquet of a few hundred KB can declare gigabytes or tens of millions of rows.  The
# defaults fit the largest real round (about 24 million households nationally is far
# beyond one office's extraction; a national file is loaded per 시도 or raised here).
# Each can be raised with the environment variable of the same name.
INGEST_LIMITS = {
    # rows of data in one file (CSV, XLSX or Parquet)
    "BLINDSPOT_INGEST_MAX_ROWS": 30_000_000,  # a national round is about 24 million households
    # bytes of one uploaded/read file as stored (compressed)
    "BLINDSPOT_INGEST_MAX_FILE_BYTES": 8_000_000_000,
    # bytes an XLSX may expand to (sum of its zip members' uncompressed sizes)
    "BLINDSPOT_INGEST_MAX_XLSX_BYTES": 1_000_000_000,
    # largest expansion ratio of one zip member (uncompressed / compressed)
    "BLINDSPOT_INGEST_MAX_ZIP_RATIO": 200,
    # rows per 1,000 stored bytes of a Parquet file (above 100,000 rows): real rows carry a
    # distinct id and compress to several bytes each; a bomb of repeated rows does not
    "BLINDSPOT_INGEST_MAX_ROWS_PER_KB": 2_000,
    # bytes the uncompressed column data of a Parquet file may take
    "BLINDSPOT_INGEST_MAX_PARQUET_BYTES": 12_000_000_000,
}
# Calendar years a round of real data may be in (round codes outside are refused).
ROUND_YEARS = (2000, 2099)


def ingest_limit(name: str) -> int:
    """One limit of :data:`INGEST_LIMITS`, from the environment when set there.

    >>> ingest_limit("BLINDSPOT_INGEST_MAX_ZIP_RATIO") >= 100
    True
    """
    value = os.environ.get(name)
    if value:
        try:
            return max(1, int(value.replace("_", "").replace(",", "")))
        except ValueError:
            pass  # a malformed setting must not lift the limit
    return INGEST_LIMITS[name]


GEO_FILES = ("sido.parquet", "sgg.parquet", "emd.parquet", "population_by_age.csv")

ATTRIBUTION = (
    "출처: 통계청 통계지리정보서비스(SGIS) 행정구역 경계(2024년 2분기, 일반화·병합 처리)",
    "출처: 행정안전부 주민등록 인구통계(2024년 6월)",
)


# Files this product creates (databases and their WAL, models, exports, the operational
# store) must not be world-readable: owner read-write, group read at most.
PRIVATE_UMASK = 0o027


def private_umask() -> None:
    """Set the process umask so new files are at most 0640 and folders 0750."""
    os.umask(PRIVATE_UMASK)


def db_path(explicit: str | os.PathLike | None = None) -> Path:
    """Database file to use: explicit argument, else ``BLINDSPOT_DB``, else the default."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("BLINDSPOT_DB")
    return Path(env) if env else DEFAULT_DB


def models_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Folder of model artifacts (``models/<version>/``): explicit, ``BLINDSPOT_MODELS``, default."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("BLINDSPOT_MODELS")
    return Path(env) if env else DEFAULT_MODELS


def geo_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Folder with the boundary and population files, by the documented order.

    Example: ``geo_dir("../shared/geo")`` returns that folder if it holds the four
    files, and raises :class:`GeoDataError` naming the missing ones otherwise.
    """
    candidates: list[tuple[str, Path]] = []
    if explicit:
        candidates.append(("--geo-dir", Path(explicit)))
    env = os.environ.get("BLINDSPOT_GEO_DIR")
    if env:
        candidates.append(("BLINDSPOT_GEO_DIR", Path(env)))
    if explicit or env:
        # An explicit choice that is wrong must fail loudly, not fall back silently.
        source, path = candidates[0]
        missing = [f for f in GEO_FILES if not (path / f).is_file()]
        if missing:
            raise GeoDataError(
                f"경계 자료 폴더 {path} ({source})에 {', '.join(missing)} 파일이 없습니다. "
                f"폴더에 {', '.join(GEO_FILES)} 가 있어야 합니다."
            )
        return path
    for path in (PROJECT_DIR / "data" / "geo", PROJECT_DIR.parent / "shared" / "geo"):
        if all((path / f).is_file() for f in GEO_FILES):
            return path
    raise GeoDataError(
        "행정구역 경계·인구 자료를 찾지 못했습니다. 다음 중 하나를 하세요: "
        "(1) --geo-dir 로 폴더를 지정, (2) 환경변수 BLINDSPOT_GEO_DIR 설정, "
        f"(3) {PROJECT_DIR / 'data' / 'geo'} 에 {', '.join(GEO_FILES)} 복사, "
        f"(4) 프로젝트 옆 {PROJECT_DIR.parent / 'shared' / 'geo'} 에 shared 자료 배치."
    )
