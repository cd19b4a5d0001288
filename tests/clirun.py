"""Running ``python -m blindspot`` in-process in tests: its exit code and what it printed, on a
test's own copy of a database."""

import io
import shutil
from contextlib import redirect_stdout
from pathlib import Path

from blindspot import cli


def run_cli(args: list[str]) -> tuple[int, str]:
    """The command's exit code and standard output."""
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(args)
    return code, out.getvalue()


def own_copy(path: Path, folder: Path) -> Path:
    """A copy of the database ``path`` in ``folder``: DuckDB refuses a second connection to a
    file this process holds open in another configuration (another test's fixture may)."""
    target = Path(folder) / "cli.duckdb"
    shutil.copy(path, target)
    return target
