"""The Makefile's rebuild inputs come from the package (blindspot/demo/inputs.py)."""

import shutil
import subprocess
import sys

import pytest

from blindspot.demo.inputs import PACKAGE_DIR, demo_build_inputs

REPO = PACKAGE_DIR.parent


def _names() -> set[str]:
    return {p.relative_to(REPO).as_posix() for p in demo_build_inputs()}


def test_inputs_hold_the_generator_schema_model_and_catalogue():
    names = _names()
    # The hand-kept list the Makefile had before, and the generator's stage modules.
    assert {
        "blindspot/demo/synthetic.py",
        "blindspot/db/sql.py",
        "blindspot/demo/build.py",
        "blindspot/geo/regions.py",
        "blindspot/model/features.py",
        "blindspot/model/pipeline.py",
        "blindspot/model/training.py",
        "blindspot/model/scoring.py",
        "blindspot/db/aggregates.py",
        "blindspot/data/indicators.csv",
        "blindspot/data/domains.csv",
    } <= names
    assert {
        "blindspot/demo/calibration.py",
        "blindspot/demo/households.py",
        "blindspot/demo/signals.py",
        "blindspot/demo/visits.py",
        "blindspot/demo/areas.py",
        "blindspot/demo/streams.py",
    } <= names
    assert all((REPO / n).is_file() for n in names)


def test_inputs_leave_out_the_app_and_what_the_build_does_not_import():
    names = _names()
    assert not [n for n in names if n.startswith(("blindspot/app/", "views/")) or n == "app.py"]
    assert "blindspot/cli.py" not in names and "blindspot/demo/inputs.py" not in names
    assert not [n for n in names if n.startswith(("blindspot/ingest/", "blindspot/briefing/", "blindspot/maps/"))]


def test_type_checking_imports_are_not_inputs(tmp_path, monkeypatch):
    from blindspot.demo import inputs

    pkg = tmp_path / "blindspot"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("")
    (pkg / "a" / "root.py").write_text(
        "from typing import TYPE_CHECKING\nfrom . import used\nif TYPE_CHECKING:\n    from blindspot.a import hint\n"
        "def f():\n    from blindspot.a.lazy import x\n"
    )
    for name in ("used", "hint", "lazy"):
        (pkg / "a" / f"{name}.py").write_text("")
    monkeypatch.setattr(inputs, "PACKAGE_DIR", pkg)
    monkeypatch.setattr(inputs, "ROOT_MODULES", ("blindspot.a.root",))
    got = {p.relative_to(pkg).as_posix() for p in inputs.demo_build_inputs()}
    assert got == {"__init__.py", "a/__init__.py", "a/root.py", "a/used.py", "a/lazy.py"}


def test_the_module_prints_them_with_the_standard_library_only():
    # -S -s -E: no site-packages, as with the system Python before the venv exists.
    out = subprocess.run(
        [sys.executable, "-S", "-s", "-E", "-m", "blindspot.demo.inputs"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert set(out.stdout.split()) == _names()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_makefile_uses_them():
    out = subprocess.run(["make", "-pnq", f"PYTHON={sys.executable}"], cwd=REPO, capture_output=True, text=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("DEMO_INPUTS :="))
    assert set(line.split(":=", 1)[1].split()) == _names()
