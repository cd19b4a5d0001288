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

The table itself (:data:`SETTINGS`) is :mod:`blindspot.setting_table`; this module reads,
parses and lists the values.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from blindspot.errors import BlindspotError
from blindspot.setting_table import (  # noqa: F401  (the table's names are read from here too)
    BY_NAME,
    DEMO,
    ENV_PREFIX,
    KINDS,
    LIMITS,
    LOGIN,
    MEMORY,
    MODEL,
    PATHS,
    PRIVACY,
    SERVER,
    SETTINGS,
    Setting,
    show,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Where a value came from, as `settings` prints it.
FROM_ENV = "환경변수"
FROM_FILE = "설정 파일"
FROM_DEFAULT = "기본값"

# DuckDB's `SET memory_limit` cannot bind a parameter, so a value is formatted into the
# statement: only a number and a unit may get there.
MEMORY_PATTERN = re.compile(r"\d+(\.\d+)? ?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class SettingError(BlindspotError):
    """A setting's value (environment or account file) cannot be used."""


_BY_NAME = BY_NAME


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
        raise SettingError(f"{where} 의 값은 숫자여야 합니다 (받은 값: {value!r}).")
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
        raise SettingError(f"{where} 의 값은 {kind}여야 합니다 (받은 값: {value!r}).") from None
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
        raise SettingError(f"{where} 의 값이 범위({bounds}) 밖입니다 (받은 값: {value!r}).")
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
    blindspot.settings.SettingError: BLINDSPOT_MODE 의 값은 demo, production 중 하나여야 합니다 (받은 값: 'prod').
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
        raise SettingError(f"{where} 의 값은 true 또는 false 여야 합니다 (받은 값: {value!r}).")
    if s.kind == "list":
        items = value.replace(",", " ").split() if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise SettingError(f"{where} 의 값은 목록이어야 합니다 (받은 값: {value!r}).")
        return [str(v).strip() for v in items if str(v).strip()]
    if s.kind == "path":
        if not isinstance(value, str | os.PathLike):
            raise SettingError(f"{where} 의 값은 경로여야 합니다 (받은 값: {value!r}).")
        return Path(value)
    if not isinstance(value, str):
        raise SettingError(f"{where} 의 값은 문자열이어야 합니다 (받은 값: {value!r}).")
    text = value.strip()
    if s.kind == "memory" and not MEMORY_PATTERN.fullmatch(text):
        raise SettingError(f"{where} 의 값은 메모리 크기여야 합니다 (예: 1500MB, 3GB, 2GiB; 받은 값: {value!r}).")
    if s.choices and text not in s.choices:
        raise SettingError(f"{where} 의 값은 {', '.join(s.choices)} 중 하나여야 합니다 (받은 값: {value!r}).")
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
            note = f"{exc} 그 값은 쓰지 않습니다."
    if s.account and overrides and not _unset(overrides.get(name)):
        try:
            return parse(name, overrides[name], f"계정 파일 settings.{name}"), FROM_FILE, note
        except SettingError as exc:
            if not s.lenient:
                raise
            note = " ".join(p for p in (note, f"{exc} 그 값은 쓰지 않습니다.") if p)
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
    blindspot.settings.SettingError: 환경변수 BLINDSPOT_SESSION_TIMEOUT_MINUTES 의 값은 정수여야 합니다
    (받은 값: 'half an hour').
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
        raise SettingError(f"계정 파일을 YAML 로 읽을 수 없습니다 ({path}): {exc}") from None
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
