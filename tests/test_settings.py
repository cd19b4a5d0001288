"""One settings table (blindspot/setting_table.py, read by blindspot/settings.py): its
documentation, the resolution order (environment > account file > default), the `settings`
command and no second definition."""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from blindspot import config, settings
from blindspot.app import auth
from blindspot.db import schema

PACKAGE = Path(settings.__file__).resolve().parent
DOC = config.PROJECT_DIR / "docs" / "settings.md"
# The keys of the account file's settings block before the table existed: old files must still load.
ACCOUNT_KEYS = {
    "session_timeout_minutes",
    "min_count",
    "capacity_share",
    "free_failures",
    "free_failures_address",
    "backoff_seconds",
    "max_backoff_seconds",
    "failure_reset_seconds",
    "max_upload_mb",
    "trusted_proxies",
    "secure_cookie",
    "mode",
}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for s in settings.SETTINGS:
        monkeypatch.delenv(s.env, raising=False)


def _doc_rows() -> list[list[str]]:
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in rows]


# --- the table and its documentation ----------------------------------------------------------


def test_the_documentation_holds_exactly_the_table():
    doc = _doc_rows()
    assert [r[0].strip("`") for r in doc] == [s.name for s in settings.SETTINGS]
    for row, s in zip(doc, settings.SETTINGS, strict=True):
        name, shown, env, account, malformed, group, text = row
        assert (shown.strip("`"), env.strip("`")) == (s.shown_default(), s.env), s.name
        assert (account == "yes", malformed, group, text) == (
            s.account,
            "ignored" if s.lenient else "refused",
            s.group,
            s.help,
        ), s.name
    assert settings.markdown_table() in DOC.read_text(encoding="utf-8")


def test_every_setting_once_with_its_variable():
    names = [s.name for s in settings.SETTINGS]
    assert len(names) == len(set(names)) and all(re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in names)
    assert all("|" not in s.help and s.help for s in settings.SETTINGS)
    # The variables that existed before the table keep their names.
    for old in (
        "BLINDSPOT_DB",
        "BLINDSPOT_MODELS",
        "BLINDSPOT_GEO_DIR",
        "BLINDSPOT_AUTH",
        "BLINDSPOT_MODE",
        "BLINDSPOT_OPS_URL",
        "BLINDSPOT_ADDRESS",
        "BLINDSPOT_BENCH_DIR",
        *config.INGEST_LIMITS,
    ):
        assert old in {s.env for s in settings.SETTINGS}, old
    assert set(settings.account_defaults()) == ACCOUNT_KEYS == set(auth.DEFAULT_SETTINGS)


def test_the_example_account_file_shows_the_defaults():
    example = yaml.safe_load((config.PROJECT_DIR / "config" / "auth.example.yaml").read_text(encoding="utf-8"))
    assert example["settings"] == settings.account_defaults()


# --- resolution: environment > account file > default ------------------------------------------


def test_environment_overrides_the_account_file_which_overrides_the_default(monkeypatch):
    assert settings.get("min_count") == 5 and settings.get("min_count", {"min_count": 11}) == 11
    monkeypatch.setenv("BLINDSPOT_MIN_COUNT", "7")
    assert settings.get("min_count", {"min_count": 11}) == 7
    monkeypatch.setenv("BLINDSPOT_TRUSTED_PROXIES", "10.0.0.1, 10.0.0.2")
    monkeypatch.setenv("BLINDSPOT_SECURE_COOKIE", "true")
    assert settings.get("trusted_proxies") == ["10.0.0.1", "10.0.0.2"] and settings.get("secure_cookie") is True
    monkeypatch.setenv("BLINDSPOT_DB", "elsewhere.duckdb")
    assert config.db_path() == Path("elsewhere.duckdb") and config.db_path("x.duckdb") == Path("x.duckdb")
    monkeypatch.setenv("BLINDSPOT_MIN_COUNT", "")  # empty counts as unset
    assert settings.get("min_count", {"min_count": 11}) == 11
    # Only the settings the account file may set are read from it.
    monkeypatch.delenv("BLINDSPOT_DB")
    assert settings.get("db", {"db": "/nowhere.duckdb"}) == config.PROJECT_DIR / "data" / "blindspot.duckdb"


def test_account_file_settings_through_auth_load(tmp_path, monkeypatch):
    path = tmp_path / "auth.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "credentials": {
                    "usernames": {"p": {"name": "p", "password": auth.hash_password("x", 4), "roles": ["presenter"]}}
                },
                "settings": {"min_count": 11, "capacity_share": "0.01", "old_key": 1},
            }
        ),
        encoding="utf-8",
    )
    data = auth.load(path)
    assert data["settings"]["min_count"] == 11 and data["settings"]["capacity_share"] == 0.01
    assert data["settings"]["session_timeout_minutes"] == 30 and data["settings"]["old_key"] == 1
    monkeypatch.setenv("BLINDSPOT_MIN_COUNT", "1,000")
    monkeypatch.setenv("BLINDSPOT_SESSION_TIMEOUT_MINUTES", "1_000")
    data = auth.load(path)
    assert data["settings"]["min_count"] == 1000 and data["settings"]["session_timeout_minutes"] == 1000
    assert auth.scope_of(data, "p").min_count == 1000
    monkeypatch.setenv("BLINDSPOT_SESSION_TIMEOUT_MINUTES", "half an hour")
    with pytest.raises(auth.AuthConfigError, match="BLINDSPOT_SESSION_TIMEOUT_MINUTES"):
        auth.load(path)
    monkeypatch.delenv("BLINDSPOT_SESSION_TIMEOUT_MINUTES")
    monkeypatch.setenv("BLINDSPOT_MODE", "prodution")  # a typo must not fall back to the file's mode
    with pytest.raises(auth.AuthConfigError, match="BLINDSPOT_MODE"):
        auth.load(path)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1000", 1000),
        ("1_000", 1000),
        ("1,000", 1000),
        ("0", 1),
        ("-5", 1),
        ("many", 30_000_000),
        ("1e9", 30_000_000),
        ("12.5", 30_000_000),
    ],
)
def test_a_malformed_ingest_limit_never_lifts_it(monkeypatch, value, expected):
    monkeypatch.setenv("BLINDSPOT_INGEST_MAX_ROWS", value)
    assert config.ingest_limit("BLINDSPOT_INGEST_MAX_ROWS") == expected == settings.get("ingest_max_rows")


def test_resolved_says_where_each_value_came_from(monkeypatch):
    monkeypatch.setenv("BLINDSPOT_CAPACITY_SHARE", "0.02")
    monkeypatch.setenv("BLINDSPOT_INGEST_MAX_ZIP_RATIO", "lots")
    monkeypatch.setenv("BLINDSPOT_PORT", "http")
    rows = {r["name"]: r for r in settings.resolved({"min_count": 11, "capacity_share": 0.5})}
    assert len(rows) == len(settings.SETTINGS)
    assert (rows["capacity_share"]["value"], rows["capacity_share"]["source"]) == (0.02, "환경변수")
    assert (rows["min_count"]["value"], rows["min_count"]["source"]) == (11, "설정 파일")
    assert (rows["band_medium"]["value"], rows["band_medium"]["source"]) == (0.15, "기본값")
    zip_ratio = rows["ingest_max_zip_ratio"]
    assert (zip_ratio["value"], zip_ratio["source"], zip_ratio["error"]) == (200, "기본값", None)
    assert "BLINDSPOT_INGEST_MAX_ZIP_RATIO" in zip_ratio["note"]
    assert rows["port"]["value"] is None and "BLINDSPOT_PORT" in rows["port"]["error"]


def test_memory_limits_reach_duckdb_only_as_a_number_and_a_unit(monkeypatch):
    con = duckdb.connect()
    monkeypatch.setenv("BLINDSPOT_SESSION_MEMORY_LIMIT", "2 GiB")
    con.execute(schema.memory_limit_sql("session_memory_limit"))
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "2.0 GiB"
    for hostile in ("3GB'; DROP TABLE meta; --", "3GB\nX", "lots", "3 XB"):
        monkeypatch.setenv("BLINDSPOT_SESSION_MEMORY_LIMIT", hostile)
        with pytest.raises(settings.SettingError, match="BLINDSPOT_SESSION_MEMORY_LIMIT"):
            schema.memory_limit_sql("session_memory_limit")
    monkeypatch.delenv("BLINDSPOT_SESSION_MEMORY_LIMIT")
    assert schema.memory_limit_sql("build_memory_limit") == "SET memory_limit = '1500MB'"


def test_model_defaults_follow_the_table(monkeypatch):
    from blindspot.model.pipeline import Thresholds

    assert Thresholds() == Thresholds.configured() == Thresholds(0.15, 0.05, 0.008)
    monkeypatch.setenv("BLINDSPOT_BAND_MEDIUM", "0.2")
    assert Thresholds.configured().medium == 0.2 and Thresholds().medium == 0.15


# --- the command ----------------------------------------------------------------------------------


def _settings_command(*args, env=None):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(settings.ENV_PREFIX)}
    return subprocess.run(
        [sys.executable, "-m", "blindspot", "settings", *args],
        capture_output=True,
        text=True,
        cwd=config.PROJECT_DIR,
        env={**clean, **(env or {})},
        timeout=120,
    )


def test_settings_command_json(tmp_path):
    out = _settings_command("--json", env={"BLINDSPOT_AUTH": str(tmp_path / "none.yaml"), "BLINDSPOT_MIN_COUNT": "7"})
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    rows = {r["name"]: r for r in result["settings"]}
    assert result["account_file"] is None and len(rows) == len(settings.SETTINGS)
    assert (rows["capacity_share"]["value"], rows["capacity_share"]["source"]) == (0.008, "기본값")
    assert (rows["min_count"]["value"], rows["min_count"]["source"]) == (7, "환경변수")
    assert rows["min_count"]["env"] == "BLINDSPOT_MIN_COUNT" and rows["min_count"]["help"]
    assert rows["auth"]["value"] == str(tmp_path / "none.yaml")

    path = tmp_path / "auth.yaml"
    path.write_text(yaml.safe_dump({"settings": {"capacity_share": 0.01, "db": "/x.duckdb"}}), encoding="utf-8")
    out = _settings_command("--json", "--auth", str(path))
    result = json.loads(out.stdout)
    rows = {r["name"]: r for r in result["settings"]}
    assert out.returncode == 0 and result["account_file"] == str(path) and result["unused_keys"] == ["db"]
    assert (rows["capacity_share"]["value"], rows["capacity_share"]["source"]) == (0.01, "설정 파일")


def test_settings_command_table_and_errors(tmp_path):
    out = _settings_command(env={"BLINDSPOT_AUTH": str(tmp_path / "none.yaml")})
    assert out.returncode == 0, out.stderr
    assert all(heading in out.stdout for heading in ("이름", "값", "출처", "환경변수", "설명", "[적재 한도]"))
    line = next(x for x in out.stdout.splitlines() if x.startswith("capacity_share "))
    assert line.split()[:4] == ["capacity_share", "0.008", "기본값", "BLINDSPOT_CAPACITY_SHARE"]
    bad = _settings_command(env={"BLINDSPOT_AUTH": str(tmp_path / "none.yaml"), "BLINDSPOT_PORT": "http"})
    assert bad.returncode == 2 and "BLINDSPOT_PORT" in bad.stdout and "Traceback" not in bad.stderr
    missing = _settings_command("--auth", str(tmp_path / "none.yaml"))
    assert missing.returncode == 2 and "none.yaml" in missing.stderr


def test_train_help_shows_the_table_defaults():
    out = subprocess.run(
        [sys.executable, "-m", "blindspot", "train", "--help"], capture_output=True, text=True, cwd=config.PROJECT_DIR
    )
    text = " ".join(out.stdout.split())
    for name in ("band_medium", "band_low", "capacity_share", "model_c"):
        s = settings.setting(name)
        assert f"기본 {s.shown_default()} 또는 {s.env}" in text, name


# --- no second definition ---------------------------------------------------------------------------


def _numbers(path: Path) -> list[tuple[float, int]]:
    """(value, line) of every numeric literal in a source file (strings and comments are not numbers)."""
    return [
        (node.value, node.lineno)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and type(node.value) in (int, float)
    ]


def _sources(*parts: str) -> list[Path]:
    found = []
    for part in parts:
        target = PACKAGE / part
        found += sorted(target.rglob("*.py")) if target.is_dir() else [target]
    return [p for p in found if p.name not in ("settings.py", "setting_table.py")]


# Numeric literals equal to a default by coincidence, with what they are.
UNRELATED = {
    ("briefing/pack.py", 0.008): "height of the PDF map's scale bar",
    ("demo/synthetic.py", 0.008): "the synthetic world's flagged share, a field figure frozen apart from the setting",
    ("model/card.py", 0.05): "tolerance of the model card's subgroup wording",
    ("model/sweep.py", 0.05): "the scale of the seed sweep's worlds (households), not a band",
}


def test_the_distinctive_defaults_are_not_defined_again():
    offenders = []
    # The visit capacity: nowhere in the package.
    for path in _sources("."):
        rel = path.relative_to(PACKAGE).as_posix()
        offenders += [(rel, line, v) for v, line in _numbers(path) if v == 0.008 and (rel, v) not in UNRELATED]
    # The band thresholds: not where bands are made, trained, shown or listed (the synthetic
    # world and the map statistics have 0.05s and 0.15s of their own).
    for path in _sources("model", "app", "casework", "cli.py", "config.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        offenders += [(rel, line, v) for v, line in _numbers(path) if v in (0.15, 0.05) and (rel, v) not in UNRELATED]
    # The limits and memory sizes: nowhere.
    limits = {s.default for s in settings.SETTINGS if s.group == settings.LIMITS and s.default >= 1_000_000}
    for path in _sources("."):
        rel = path.relative_to(PACKAGE).as_posix()
        text = path.read_text(encoding="utf-8")
        offenders += [(rel, line, v) for v, line in _numbers(path) if type(v) is int and v in limits]
        offenders += [(rel, 0, m) for m in ("'1500MB'", "'3GB'") if m in text]
    assert offenders == []


def test_the_environment_is_read_only_through_the_table():
    direct = re.compile(r"""(os\.environ(\.get)?\s*[\[(]|os\.getenv\()\s*["']BLINDSPOT_""")
    offenders = [p.relative_to(PACKAGE).as_posix() for p in _sources(".") if direct.search(p.read_text("utf-8"))]
    assert offenders == []


def test_the_scan_sees_a_second_definition(tmp_path):
    stray = tmp_path / "stray.py"
    stray.write_text('"""0.008 in a docstring is fine."""\nSHARE = 0.008  # 0.05\nos.environ.get("BLINDSPOT_DB")\n')
    assert _numbers(stray) == [(0.008, 2)]
    assert re.search(r"""os\.environ(\.get)?\s*[\[(]\s*["']BLINDSPOT_""", stray.read_text())
