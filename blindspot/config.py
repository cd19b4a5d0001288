"""Where things live: database, boundary data, file modes.

Every path and limit here is a setting of :mod:`blindspot.settings` (default, environment
variable, help).  Resolution order for the boundary data: an explicit path, then the
``BLINDSPOT_GEO_DIR`` environment variable, then ``data/geo`` inside the project,
then ``../shared/geo`` beside the project.  The database defaults to
``data/blindspot.duckdb`` and can be moved with ``BLINDSPOT_DB``.
"""

from __future__ import annotations

import os
from pathlib import Path

from blindspot import settings
from blindspot.errors import GeoDataError
from blindspot.settings import PROJECT_DIR

PACKAGE_DATA_DIR = Path(__file__).resolve().parent / "data"

# --- limits on extraction files ----------------------------------
# The settings of group 적재 한도 (blindspot/settings.py says why each is there), by the name
# of their environment variable, which is how the readers and their messages name them.
INGEST_LIMITS = {s.env: s.default for s in settings.SETTINGS if s.name.startswith("ingest_")}
# Calendar years a round of real data may be in (round codes outside are refused).
ROUND_YEARS = (2000, 2099)


def ingest_limit(name: str) -> int:
    """One limit of :data:`INGEST_LIMITS` (by environment variable or setting name), from the
    environment when set there; a malformed value falls back to the default.

    >>> ingest_limit("BLINDSPOT_INGEST_MAX_ZIP_RATIO") >= 100
    True
    >>> ingest_limit("ingest_max_rows") == ingest_limit("BLINDSPOT_INGEST_MAX_ROWS")
    True
    """
    return settings.get(name.removeprefix(settings.ENV_PREFIX).lower())


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
    return Path(explicit) if explicit else settings.get("db")


def models_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Folder of model artifacts (``models/<version>/``): explicit, ``BLINDSPOT_MODELS``, default."""
    return Path(explicit) if explicit else settings.get("models")


def geo_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Folder with the boundary and population files, by the documented order.

    Example: ``geo_dir("../shared/geo")`` returns that folder if it holds the four
    files, and raises :class:`GeoDataError` naming the missing ones otherwise.
    """
    candidates: list[tuple[str, Path]] = []
    if explicit:
        candidates.append(("--geo-dir", Path(explicit)))
    env = settings.get("geo_dir")  # not an account-file setting: set means set in the environment
    if env:
        candidates.append((settings.setting("geo_dir").env, env))
    if explicit or env:
        # An explicit choice that is wrong must fail loudly, not fall back silently.
        source, path = candidates[0]
        missing = [f for f in GEO_FILES if not (path / f).is_file()]
        if missing:
            raise GeoDataError(
                f"경계 자료 폴더 {path} ({source})에 {', '.join(missing)} 파일이 없습니다. "
                f"폴더에 있어야 하는 파일: {', '.join(GEO_FILES)}."
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
