"""Progress reporting shared by the command line and the UI.

Long work takes a ``progress`` callable ``(fraction 0..1, message)``; the CLI passes
:class:`LineProgress`, the UI passes a wrapper around ``st.progress``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

ProgressFn = Callable[[float, str], None]


def silent(_fraction: float, _message: str) -> None:
    """A progress callback that reports nothing (tests, benchmarks)."""


class LineProgress:
    """One progress line on stderr, redrawn at most every 0.2 s, with elapsed time."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._last = 0.0
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last < 0.2:
            return
        self._last = now
        line = f"[{fraction * 100:5.1f}%] {now - self.started:6.1f}s  {message}"
        if self._tty:
            self.stream.write("\r\033[K" + line + ("\n" if fraction >= 1.0 else ""))
        else:
            # In CI logs a carriage return turns into one unreadable line: print whole lines, fewer.
            if fraction >= 1.0 or now - getattr(self, "_last_print", 0.0) >= 2.0:
                self._last_print = now
                self.stream.write(line + "\n")
        self.stream.flush()
