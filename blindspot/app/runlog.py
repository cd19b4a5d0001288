"""Server-side timing of every script run, for the sessions bench (:mod:`blindspot.bench.sessions`).

The bench's browsers share the machine's cores with the servers, so the time a browser waits
for a page mixes the server's work with the browsers' own rendering.  The server's share is
measured here, in the server: when the setting ``run_log`` names a folder, each script run
appends one JSON line to ``<folder>/runs-<pid>.jsonl`` with the signed-in user, the page, the
wall-clock start (epoch seconds, the same clock the bench records its steps with), the run's
wall time and the CPU time of the thread that ran it (``time.thread_time``: the script's own
CPU, not Tornado's or other sessions').  Off by default: no file, no cost but one lookup.

Standard library only: the router (``app.py``) wraps its body in :func:`timed`.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from blindspot import settings


def _folder() -> Path | None:
    value = settings.get("run_log")
    return Path(value) if value else None


@contextlib.contextmanager
def timed(describe: Callable[[], dict]) -> Iterator[None]:
    """Time the ``with`` block (a script run) and, when ``run_log`` is set, append
    ``{"pid", "start", "wall_s", "cpu_s", "ended", **describe()}`` to this process's run file.
    ``ended`` is ``"ok"`` or the name of the exception that ended the run (Streamlit ends a
    run with ``StopException`` on ``st.stop`` and ``RerunException`` on ``st.rerun``): both
    are counted, they are the server's work too.  ``describe`` runs after the block, so it
    sees who signed in during it.

    Example: with ``BLINDSPOT_RUN_LOG=/tmp/runs``, one run of the map page by ``bench01`` adds
    ``{"pid": 4242, "start": 1764800000.12, "wall_s": 0.084, "cpu_s": 0.061, "ended": "ok",
    "user": "bench01", "page": "region_map"}`` to ``/tmp/runs/runs-4242.jsonl``.
    """
    folder = _folder()
    if folder is None:
        yield
        return
    start, wall0, cpu0 = time.time(), time.perf_counter(), time.thread_time()
    ended = "ok"
    try:
        yield
    except BaseException as exc:
        ended = type(exc).__name__
        raise
    finally:
        record = {
            "pid": os.getpid(),
            "start": round(start, 4),
            "wall_s": round(time.perf_counter() - wall0, 5),
            "cpu_s": round(time.thread_time() - cpu0, 5),
            "ended": ended,
        }
        with contextlib.suppress(Exception):  # timing must never break a page
            record |= describe()
        write(folder, record)


def write(folder: Path, record: dict) -> None:
    """Append ``record`` as one line; O_APPEND keeps lines of concurrent sessions whole."""
    folder.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
    fd = os.open(folder / f"runs-{os.getpid()}.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read(folder: Path) -> list[dict]:
    """Every run recorded under ``folder`` (all processes), in start order; [] when none.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write(Path(d), {"start": 2.0, "wall_s": 0.5})
    ...     write(Path(d), {"start": 1.0, "wall_s": 0.25})
    ...     [r["start"] for r in read(Path(d))]
    [1.0, 2.0]
    """
    runs = []
    for path in sorted(Path(folder).glob("runs-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                runs.append(json.loads(line))
    return sorted(runs, key=lambda r: r.get("start", 0.0))
