"""Background jobs of the 데이터 관리 page: loading a round and rescoring run on a thread of
this server process, not on the page's script run, so a page rerun, another page or a
closed tab does not stop them; the page polls the job it started (its id is kept in the
session, and sticky sessions bring the browser back to this process).

A job writes the next snapshot version through :func:`blindspot.db.snapshots.loader`, so
it is refused at once while another loader (a CLI command, another office's job) runs, and
it publishes only when complete.  Progress goes to the job (shown at the top of the page)
and to stderr; a job killed with its process publishes nothing.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from blindspot.errors import BlindspotError

FAILED = "작업 중 예기치 못한 오류가 났습니다. 아무것도 게시하지 않았습니다. 관리자에게 알리세요."
KEEP_SECONDS = 24 * 3600  # finished jobs are forgotten after a day


@dataclass
class Job:
    """One load or rescoring; ``status`` is running, done or failed."""

    id: str
    kind: str
    user: str
    started: float = field(default_factory=time.time)
    fraction: float = 0.0
    message: str = "시작하는 중"
    status: str = "running"
    result: dict | None = None
    error: str | None = None
    finished: float | None = None

    def progress(self, fraction: float, message: str) -> None:
        """The ``progress(fraction 0..1, message)`` callback the loaders take."""
        self.fraction, self.message = min(max(float(fraction), 0.0), 1.0), message
        print(f"[{self.fraction:6.1%}] {self.kind} {self.id}: {message}", file=sys.stderr, flush=True)


_jobs: dict[str, Job] = {}
_lock = threading.Lock()


def start(kind: str, user: str, work: Callable[[Callable[[float, str], None]], dict]) -> Job:
    """Run ``work(progress)`` on a new thread; returns the job at once.

    Example: ``start("적재", "kim", lambda progress: {"round": "2024-R4"})``.
    """
    job = Job(uuid.uuid4().hex[:12], kind, user)
    with _lock:
        now = time.time()
        for old in [j for j in _jobs.values() if j.finished and now - j.finished > KEEP_SECONDS]:
            del _jobs[old.id]
        _jobs[job.id] = job
    threading.Thread(target=_run, args=(job, work), name=f"blindspot-job-{job.id}", daemon=True).start()
    return job


def _run(job: Job, work) -> None:
    try:
        job.result = work(job.progress)
        job.status = "done"
    except BlindspotError as exc:  # a Korean sentence meant for the person: shown as it is
        job.error, job.status = str(exc), "failed"
    except Exception as exc:  # anything else: the details to the operator, a plain sentence to the page
        print(f"job {job.id} ({job.kind}) failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        job.error, job.status = FAILED, "failed"
    finally:
        job.finished = time.time()


def get(job_id: str | None) -> Job | None:
    with _lock:
        return _jobs.get(job_id) if job_id else None


def wait(job_id: str, timeout: float = 600.0) -> Job | None:
    """Block until the job has finished (tests and scripts; pages poll instead)."""
    deadline = time.monotonic() + timeout
    job = get(job_id)
    while job is not None and job.status == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    return job
