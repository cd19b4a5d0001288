"""Map colours have one home (blindspot.maps.palette), shared by the web maps and the PDF."""

import re
from pathlib import Path

import blindspot
from blindspot.maps import palette, render

HEX = re.compile(r"#[0-9a-fA-F]{6}\b")
PACKAGE = Path(blindspot.__file__).resolve().parent


def colour_literals(root: Path) -> dict[str, list[int]]:
    """Source files under ``root`` (palette.py excepted) with a hex colour outside a doctest line."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        if path.name == "palette.py" and path.parent.name == "maps":
            continue
        lines = [
            i
            for i, line in enumerate(path.read_text("utf-8").splitlines(), 1)
            if HEX.search(line) and ">>>" not in line
        ]
        if lines:
            found[str(path.relative_to(root))] = lines
    return found


def test_no_colour_is_defined_outside_the_palette():
    assert colour_literals(PACKAGE) == {}


def test_the_scan_finds_a_colour(tmp_path):
    (tmp_path / "stray.py").write_text('BAR = "#d95f0e"\n>>> "#ffffff"\n', encoding="utf-8")
    assert colour_literals(tmp_path) == {"stray.py": [1]}


def test_web_map_and_pdf_share_the_ramp():
    # render draws the web map from the palette's functions, not a copy of them
    assert render.palette is palette.palette and render.rgba is palette.rgba
    assert palette.palette(5) == palette.SEQUENTIAL[5]
    assert palette.rgba(palette.NO_DATA, 120) == [200, 200, 200, 120]
