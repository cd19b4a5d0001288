"""Every setting of the product, once: name, default, help (:data:`SETTINGS`).

A setting is read from, in this order:

1. the environment variable ``BLINDSPOT_`` + its name in capitals (``min_count`` →
   ``BLINDSPOT_MIN_COUNT``);
2. the account file's ``settings:`` block (``config/auth.yaml``), for the settings marked
   ``account`` only (the block keeps its key names, so older files still work);
3. the table's default.

Environment values are text and are parsed by the setting's ``kind`` (``int`` accepts
``1_000`` and ``1,000``).  A malformed value is refused with a message naming the variable
(:class:`SettingError`), except for the settings marked ``lenient`` (the file limits among
them): there it is ignored and the default stays, so a typo can never lift a limit.
``python -m blindspot settings`` prints every value and where it came from;
``docs/settings.md`` holds the table (``tests/test_settings.py`` keeps the two equal).

>>> default("capacity_share"), setting("min_count").env
(0.008, 'BLINDSPOT_MIN_COUNT')
>>> get("min_count", {"min_count": 11}, environ={})
11
>>> get("min_count", {"min_count": 11}, environ={"BLINDSPOT_MIN_COUNT": "7"})
7

Library defaults (a function's or dataclass's default argument) read :func:`default`, so a
library call does not depend on the environment; the entry points (the command line, the
app's login, training, the paths, limits and memory settings) read :func:`get`, as do the two
constants that are the app's own choice (``hexgrid.DEFAULT_K``, the cache's ``TTL``).

Why over 500 lines: it is the one table of every setting with its help text, and the
parsing that applies to all of them; splitting the table would undo its point.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blindspot.errors import BlindspotError

PROJECT_DIR = Path(__file__).resolve().parent.parent
ENV_PREFIX = "BLINDSPOT_"

# Where a value came from, as `settings` prints it.
FROM_ENV = "환경변수"
FROM_FILE = "설정 파일"
FROM_DEFAULT = "기본값"

KINDS = ("int", "float", "bool", "str", "list", "path", "memory")
# DuckDB's `SET memory_limit` cannot bind a parameter, so a value is formatted into the
# statement: only a number and a unit may get there.
MEMORY_PATTERN = re.compile(r"\d+(\.\d+)? ?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class SettingError(BlindspotError):
    """A setting's value (environment or account file) cannot be used."""


@dataclass(frozen=True)
class Setting:
    """One setting.  ``kind`` parses environment text; ``group`` orders the listing;
    ``account``: the account file's ``settings:`` block may set it; ``lenient``: a malformed
    value is ignored (the next source or the default is used) instead of refused, for limits
    whose default is the safe side and values read when a module is imported;
    ``minimum``/``maximum`` bound numbers (a lenient setting is clamped to them); ``choices``
    the allowed texts.  A ``path`` default is relative to the project folder."""

    name: str
    default: Any
    help: str
    kind: str
    group: str
    account: bool = False
    lenient: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"setting {self.name}: kind {self.kind!r} is not one of {KINDS}")

    @property
    def env(self) -> str:
        """The environment variable that sets it.

        >>> setting("ingest_max_rows").env
        'BLINDSPOT_INGEST_MAX_ROWS'
        """
        return ENV_PREFIX + self.name.upper()

    def shown_default(self) -> str:
        """The default as the documentation and ``--help`` show it.

        >>> setting("ingest_max_rows").shown_default(), setting("db").shown_default()
        ('30,000,000', 'data/blindspot.duckdb')
        """
        return show(self.default)


def show(value: Any) -> str:
    """A value as text: large numbers in thousands, ``true``/``false``, a list comma-separated.

    >>> show(8_000_000_000), show(8501), show(0.008), show(False), show(()), show(None), show(["10.0.0.1", "::1"])
    ('8,000,000,000', '8501', '0.008', 'false', '[]', '(없음)', '10.0.0.1, ::1')
    """
    if value is None:
        return "(없음)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 100_000 else str(value)  # not a port or a seed
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) if value else "[]"
    return str(value)


MODEL, PRIVACY, LOGIN, SERVER, LIMITS, MEMORY, PATHS, DEMO = (
    "모델",
    "개인정보",
    "로그인",
    "서버",
    "적재 한도",
    "메모리",
    "경로",
    "데모",
)

SETTINGS: tuple[Setting, ...] = (
    # --- the risk model (docs/model.md) ---
    # domain.md: about 0.8 % of all households are flagged for a visit per round.
    Setting(
        "capacity_share",
        0.008,
        "읍면동 방문 용량: 한 차수에 방문할 수 있는 가구 비율 (가구 대비, 최소 1가구)",
        "float",
        MODEL,
        account=True,
    ),
    Setting("band_medium", 0.15, "주의 등급 최소 확률 (위험: 방문 용량 안이면서 이 확률 이상)", "float", MODEL),
    Setting("band_low", 0.05, "관심 등급 최소 확률", "float", MODEL),
    Setting("model_c", 1.0, "로지스틱 회귀 정규화 강도의 역수 (train --C)", "float", MODEL),
    # --- small counts (docs/access.md) ---
    Setting(
        "min_count",
        5,
        "소수 억제 기준 k: 집계만 보는 계정(발표자·브리핑)에게 이보다 작은 수는 숨김",
        "int",
        PRIVACY,
        account=True,
        minimum=1,
    ),
    # The hotspot page's number input offers 5–200; read on import, so a typo must not stop the app.
    Setting(
        "hex_min_count",
        10,
        "육각형(H3) 지도: 가구가 이보다 적은 셀은 그리지도 내보내지도 않음",
        "int",
        PRIVACY,
        lenient=True,
        minimum=5,
        maximum=200,
    ),
    # --- login (docs/access.md, Login safety) ---
    Setting(
        "session_timeout_minutes",
        30,
        "이 시간(분) 동안 동작이 없으면 로그아웃 (0: 만료 없음)",
        "int",
        LOGIN,
        account=True,
        minimum=0,
    ),
    Setting(
        "free_failures", 5, "한 계정에 대기 없이 허용되는 연속 로그인 실패 횟수", "int", LOGIN, account=True, minimum=0
    ),
    # Several people may share one address behind NAT.
    Setting(
        "free_failures_address",
        20,
        "한 접속 주소에 대기 없이 허용되는 로그인 실패 횟수",
        "int",
        LOGIN,
        account=True,
        minimum=0,
    ),
    Setting(
        "backoff_seconds",
        30,
        "허용 횟수를 넘긴 첫 대기(초); 실패할 때마다 두 배",
        "int",
        LOGIN,
        account=True,
        minimum=0,
    ),
    Setting("max_backoff_seconds", 3600, "가장 긴 로그인 대기(초)", "int", LOGIN, account=True, minimum=0),
    Setting(
        "failure_reset_seconds",
        86400,
        "이만큼(초) 새 실패가 없으면 실패 횟수를 다시 셈",
        "int",
        LOGIN,
        account=True,
        minimum=0,
    ),
    Setting(
        "mode",
        "production",
        "배포 방식: production 이면 데모 계정이 있는 계정 파일을 거부 (demo 는 users init-demo 가 만든 파일)",
        "str",
        LOGIN,
        account=True,
        choices=("demo", "production"),
    ),
    # --- the server (docs/access.md, Server gate) ---
    Setting("address", "127.0.0.1", "serve 가 받을 주소 (0.0.0.0 이면 밖에서도 접속)", "str", SERVER),
    Setting("port", 8501, "serve 가 받을 포트", "int", SERVER, minimum=1, maximum=65535),
    Setting(
        "trusted_proxies", (), "X-Forwarded-For 를 믿을 역방향 프록시 주소 (쉼표로 구분)", "list", SERVER, account=True
    ),
    Setting("secure_cookie", False, "HTTPS 뒤에서 true: 브라우저 쿠키를 TLS 로만 보냄", "bool", SERVER, account=True),
    # Read on import of the app's cache module: a typo falls back rather than stop the app.
    Setting(
        "cache_ttl_seconds",
        600,
        "앱이 질의 결과를 캐시에 두는 시간(초); 새 자료는 캐시를 바로 비움",
        "int",
        SERVER,
        lenient=True,
        minimum=0,
    ),
    # --- limits on extraction files (docs/ingest-format.md) ---
    # A hostile or broken file must be refused before it is expanded: a compressed XLSX or
    # Parquet of a few hundred KB can declare gigabytes or tens of millions of rows.  The
    # defaults fit the largest real round (a national file is loaded per 시도 or raised here).
    # Lenient: a malformed value must not lift a limit, it falls back to the default.
    Setting(
        "max_upload_mb",
        100,
        "앱에서 올릴 수 있는 파일 크기 상한(MB; server.maxUploadSize 이하)",
        "int",
        LIMITS,
        account=True,
        lenient=True,
        minimum=1,
    ),
    Setting(
        "ingest_max_file_bytes",
        8_000_000_000,
        "추출 파일 한 개의 저장 크기 상한(바이트)",
        "int",
        LIMITS,
        lenient=True,
        minimum=1,
    ),
    # A national round is about 24 million households.
    Setting("ingest_max_rows", 30_000_000, "파일 한 개의 자료 행 수 상한", "int", LIMITS, lenient=True, minimum=1),
    Setting(
        "ingest_max_xlsx_bytes",
        1_000_000_000,
        "XLSX 가 풀렸을 때 크기 상한(압축 항목 합, 바이트)",
        "int",
        LIMITS,
        lenient=True,
        minimum=1,
    ),
    Setting(
        "ingest_max_zip_ratio",
        200,
        "XLSX 압축 항목 하나의 최대 압축률(풀린 크기 ÷ 압축 크기)",
        "int",
        LIMITS,
        lenient=True,
        minimum=1,
    ),
    # Real rows carry a distinct id and compress to several bytes each; a bomb of repeated rows does not.
    Setting(
        "ingest_max_rows_per_kb",
        2_000,
        "Parquet 저장 1,000바이트당 행 수 상한 (100,000행 넘는 파일)",
        "int",
        LIMITS,
        lenient=True,
        minimum=1,
    ),
    Setting(
        "ingest_max_parquet_bytes",
        12_000_000_000,
        "Parquet 열 자료가 풀렸을 때 크기 상한(바이트)",
        "int",
        LIMITS,
        lenient=True,
        minimum=1,
    ),
    # --- DuckDB memory (docs/data-model.md) ---
    # A build must stay within the benchmark's memory budget (8 GB) beside the generator's own
    # arrays; DuckDB would otherwise take up to 80 % of RAM for buffers.
    Setting("build_memory_limit", "1500MB", "데모·빈 데이터베이스 구축 중 DuckDB 메모리 상한", "memory", MEMORY),
    # A full-scale `train` peaked at 17.5 GB without a limit; 3 GB keeps training and scoring
    # inside the 8 GB budget, spilling to disk when a national aggregate needs more.
    Setting(
        "session_memory_limit", "3GB", "그 밖의 모든 연결의 DuckDB 메모리 상한 (넘으면 디스크 사용)", "memory", MEMORY
    ),
    # A national households file as text cells is ~7 GB: checked in pieces of this many rows.
    Setting("validation_piece_rows", 1_000_000, "가구 파일을 나눠 검사하는 단위 (행 수)", "int", MEMORY, minimum=1),
    # --- where things live (blindspot/config.py) ---
    Setting("db", "data/blindspot.duckdb", "데이터베이스 파일 (--db 가 우선)", "path", PATHS),
    Setting("models", "models", "모델 폴더: 버전마다 하위 폴더 하나 (--models 가 우선)", "path", PATHS),
    Setting(
        "geo_dir",
        None,
        "행정구역 경계·인구 자료 폴더 (--geo-dir 가 우선; 없으면 data/geo → ../shared/geo)",
        "path",
        PATHS,
    ),
    Setting("auth", "config/auth.yaml", "계정 파일 (--auth 가 우선)", "path", PATHS),
    Setting(
        "ops_url",
        None,
        "운영 저장소(감사 기록, 입력한 방문 결과, 브리핑 목표, 적재 이력, 로그인 실패 횟수) SQLAlchemy URL "
        "(없으면 data/ops.sqlite 의 SQLite; 여러 서버면 postgresql+psycopg://…)",
        "str",
        PATHS,
    ),
    Setting("snapshots_keep", 3, "분석 데이터 판(스냅숏)을 몇 개 남길지 (되돌리기용; 지금 판은 늘 남음)", "int", PATHS),
    Setting("bench_dir", None, "bench 가 측정용 데이터베이스를 만들 폴더 (없으면 시스템 임시 폴더)", "path", PATHS),
    # --- the demo `make run` builds: every 읍면동, a tenth of the real households ---
    Setting("demo_scale", 0.1, "데모 규모: 실제 세대수 대비 비율 (전국 실규모 1)", "float", DEMO),
    Setting("demo_rounds", 6, "데모 격월 차수 개수 (마지막 2024-R3)", "int", DEMO),
    Setting("demo_seed", 42, "데모 난수 시드 (같은 시드 → 같은 데이터)", "int", DEMO),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def setting(name: str) -> Setting:
    """The setting called ``name`` (KeyError names the known ones)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"알 수 없는 설정 {name!r} (있는 설정: {', '.join(_BY_NAME)})") from None


def default(name: str) -> Any:
    """The table's default of ``name``: a path default made absolute in the project folder,
    a list default as a new list.

    >>> default("band_medium"), default("trusted_proxies"), default("db").name
    (0.15, [], 'blindspot.duckdb')
    """
    s = setting(name)
    if s.kind == "path" and s.default is not None:
        return PROJECT_DIR / s.default
    if s.kind == "list":
        return list(s.default)
    return s.default


def _number(s: Setting, value: Any, where: str) -> int | float:
    if isinstance(value, bool):
        raise SettingError(f"{where} 의 값 {value!r} 은 숫자가 아닙니다.")
    try:
        if s.kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            number: int | float = (
                int(value.strip().replace("_", "").replace(",", "")) if isinstance(value, str) else int(value)
            )
        else:
            number = float(value.strip()) if isinstance(value, str) else float(value)
            if not math.isfinite(number):
                raise ValueError
    except (TypeError, ValueError):
        kind = "정수" if s.kind == "int" else "수"
        raise SettingError(f"{where} 의 값 {value!r} 은 {kind}가 아닙니다.") from None
    low, high = s.minimum, s.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        if s.lenient:
            bound = low if low is not None and number < low else high
            return number if bound is None else type(number)(bound)
        bounds = " ".join(
            x
            for x in (
                (f"{show(low)} 이상" if low is not None else ""),
                (f"{show(high)} 이하" if high is not None else ""),
            )
            if x
        )
        raise SettingError(f"{where} 의 값 {value!r} 은 {bounds}여야 합니다.")
    return number


def parse(name: str, value: Any, where: str = "값") -> Any:
    """``value`` (environment text or a value of the account file) as setting ``name`` takes
    it; raises :class:`SettingError` saying what is wrong with it, ``where`` naming its source.

    >>> parse("ingest_max_rows", "1_000"), parse("ingest_max_rows", "1,000"), parse("secure_cookie", "yes")
    (1000, 1000, True)
    >>> parse("trusted_proxies", "10.0.0.1, 10.0.0.2"), parse("session_memory_limit", "2 GiB")
    (['10.0.0.1', '10.0.0.2'], '2 GiB')
    >>> parse("mode", "prod", "BLINDSPOT_MODE")
    Traceback (most recent call last):
    ...
    blindspot.settings.SettingError: BLINDSPOT_MODE 의 값 'prod' 은 demo, production 중 하나여야 합니다.
    """
    s = setting(name)
    if s.kind in ("int", "float"):
        return _number(s, value, where)
    if s.kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE + _FALSE:
            return text in _TRUE
        raise SettingError(f"{where} 의 값 {value!r} 은 true 또는 false 여야 합니다.")
    if s.kind == "list":
        items = value.replace(",", " ").split() if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise SettingError(f"{where} 의 값 {value!r} 은 목록이어야 합니다.")
        return [str(v).strip() for v in items if str(v).strip()]
    if s.kind == "path":
        if not isinstance(value, str | os.PathLike):
            raise SettingError(f"{where} 의 값 {value!r} 은 경로가 아닙니다.")
        return Path(value)
    if not isinstance(value, str):
        raise SettingError(f"{where} 의 값 {value!r} 은 문자열이어야 합니다.")
    text = value.strip()
    if s.kind == "memory" and not MEMORY_PATTERN.fullmatch(text):
        raise SettingError(f"{where} 의 값 {value!r} 은 메모리 크기가 아닙니다 (예: 1500MB, 3GB, 2GiB).")
    if s.choices and text not in s.choices:
        raise SettingError(f"{where} 의 값 {value!r} 은 {', '.join(s.choices)} 중 하나여야 합니다.")
    return text


def _unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _resolve(name: str, overrides: Mapping | None, environ: Mapping | None) -> tuple[Any, str, str | None]:
    """(value, source, note): ``note`` says why a lenient setting's value was ignored."""
    s = setting(name)
    environ = os.environ if environ is None else environ
    note = None
    raw = environ.get(s.env)
    if not _unset(raw):
        try:
            return parse(name, raw, f"환경변수 {s.env}"), FROM_ENV, None
        except SettingError as exc:
            if not s.lenient:
                raise
            note = f"{exc} 이 값은 쓰지 않습니다."
    if s.account and overrides and not _unset(overrides.get(name)):
        try:
            return parse(name, overrides[name], f"계정 파일 settings.{name}"), FROM_FILE, note
        except SettingError as exc:
            if not s.lenient:
                raise
            note = " ".join(p for p in (note, f"{exc} 이 값은 쓰지 않습니다.") if p)
    return default(name), FROM_DEFAULT, note


def get(name: str, overrides: Mapping | None = None, *, environ: Mapping | None = None) -> Any:
    """The value of setting ``name``: its environment variable, else ``overrides`` (the
    account file's ``settings:`` block; read for ``account`` settings only), else the default.
    ``environ`` replaces :data:`os.environ` (for tests).

    >>> get("capacity_share", {"capacity_share": 0.01}, environ={})
    0.01
    >>> get("ingest_max_rows", environ={"BLINDSPOT_INGEST_MAX_ROWS": "1,000"})
    1000
    >>> get("ingest_max_rows", environ={"BLINDSPOT_INGEST_MAX_ROWS": "many"})  # never lifts the limit
    30000000
    >>> get("session_timeout_minutes", environ={"BLINDSPOT_SESSION_TIMEOUT_MINUTES": "half an hour"})
    Traceback (most recent call last):
    ...
    blindspot.settings.SettingError: 환경변수 BLINDSPOT_SESSION_TIMEOUT_MINUTES 의 값 'half an hour' 은 정수가 아닙니다.
    """
    return _resolve(name, overrides, environ)[0]


def account_defaults() -> dict[str, Any]:
    """Defaults of the settings the account file's ``settings:`` block may set (what a new
    account file is written with).

    >>> account_defaults()["min_count"], "db" in account_defaults()
    (5, False)
    """
    return {s.name: default(s.name) for s in SETTINGS if s.account}


def account_settings(overrides: Mapping | None = None, *, environ: Mapping | None = None) -> dict[str, Any]:
    """Every account-file setting resolved: environment, then ``overrides``, then default.

    >>> account_settings({"min_count": 11}, environ={})["min_count"]
    11
    """
    return {s.name: get(s.name, overrides, environ=environ) for s in SETTINGS if s.account}


def resolved(overrides: Mapping | None = None, *, environ: Mapping | None = None) -> list[dict]:
    """Every setting with its value and where the value came from, in table order: name,
    group, value, default, source (환경변수 / 설정 파일 / 기본값), env, help, account; ``error``
    the message when the value is refused (value None: :func:`get` would raise), ``note`` when
    a lenient setting ignored a malformed value (else both None).

    >>> row = next(r for r in resolved({"min_count": 11}, environ={}) if r["name"] == "min_count")
    >>> row["value"], row["source"], row["env"], row["default"]
    (11, '설정 파일', 'BLINDSPOT_MIN_COUNT', 5)
    """
    rows = []
    for s in SETTINGS:
        error = None
        try:
            value, source, note = _resolve(s.name, overrides, environ)
        except SettingError as exc:
            env_set = not _unset((os.environ if environ is None else environ).get(s.env))
            value, source, note, error = None, FROM_ENV if env_set else FROM_FILE, None, str(exc)
        rows.append(
            {
                "name": s.name,
                "group": s.group,
                "value": value,
                "default": default(s.name),
                "source": source,
                "env": s.env,
                "help": s.help,
                "account": s.account,
                "error": error,
                "note": note,
            }
        )
    return rows


def read_account_overrides(path: str | os.PathLike) -> dict | None:
    """The ``settings:`` block of the account file at ``path`` as written (None when there is
    no such file); the accounts in it are not checked here."""
    import yaml

    path = Path(path)
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SettingError(f"계정 파일 {path} 를 YAML 로 읽을 수 없습니다: {exc}") from None
    block = data.get("settings") if isinstance(data, dict) else None
    return dict(block) if isinstance(block, dict) else {}


def _width(text: str) -> int:
    """Columns a text takes in a terminal: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def text_table(rows: list[dict]) -> str:
    """The rows of :func:`resolved` as ``python -m blindspot settings`` prints them: aligned
    columns (name, value, source, variable, help), a ``[group]`` line before each group, and
    a ``↳`` line under a value that is refused or ignored."""
    header = ("이름", "값", "출처", "환경변수")
    cells = [(r["name"], "(쓸 수 없음)" if r["error"] else show(r["value"]), r["source"], r["env"]) for r in rows]
    widths = [max(_width(c[i]) for c in [header, *cells]) for i in range(len(header))]

    def line(texts) -> str:
        return "  ".join(t + " " * (w - _width(t)) for t, w in zip(texts, widths, strict=True))

    out, group = [line(header) + "  설명"], None
    for row, texts in zip(rows, cells, strict=True):
        if row["group"] != group:
            group = row["group"]
            out.append(f"[{group}]")
        out.append(line(texts) + "  " + row["help"])
        if row["error"] or row["note"]:
            out.append(f"    ↳ {row['error'] or row['note']}")
    return "\n".join(out) + "\n"


def markdown_table() -> str:
    """The table of ``docs/settings.md``: one row per setting (``tests/test_settings.py``
    checks that the documentation holds exactly these rows)."""
    lines = [
        "| name | default | environment variable | account file | malformed value | group | help |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        lines.append(
            f"| `{s.name}` | `{s.shown_default()}` | `{s.env}` | {'yes' if s.account else ''} "
            f"| {'ignored' if s.lenient else 'refused'} | {s.group} | {s.help} |"
        )
    return "\n".join(lines) + "\n"
