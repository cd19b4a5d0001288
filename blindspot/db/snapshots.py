"""Versioned, read-only analytical snapshots, published atomically.

For a database path ``P`` (``data/blindspot.duckdb`` by default)::

    P                           symlink to the active version (relative, so the folder can move)
    P.snapshots/v0007-….duckdb  one published version: a complete, checkpointed DuckDB file
    P.snapshots/v0007-….json    its manifest: when, by which command and user, from which parent
    P.snapshots/loader.lock     held (flock) by the one loader that is writing; loader.json names it
    P.snapshots/v0008-….partial the version being written (never opened by an app)

App processes open ``P`` read-only (DuckDB lets any number of processes read one file) and
look at the symlink on every page run (one ``readlink``): a published version is seen on
the next interaction, without a restart, and a half-written one never, because the link
moves only after the new file is complete and closed (``os.replace`` of a symlink is
atomic).  Loaders (CLI ``ingest``, ``score``, ``train``, ``stats``, ``geo-import``,
``build-demo``, ``init-db`` and the 데이터 관리 page) copy the active version to a partial
file, change it, and publish (:func:`loader`); one loader at a time (:class:`LoaderBusy`
names the one running).  A loader killed at any point leaves the link where it was; its
partial file is removed by the next loader.  :data:`KEEP` versions are kept for rollback
(``python -m blindspot snapshots list|activate``).

A plain file at ``P`` (made before snapshots, or by a test) is adopted as the first version
by the first loader.  Why one DuckDB file per version and not Parquet partitions:
``docs/data-model.md``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from blindspot import settings
from blindspot.db.store import Store, restrict
from blindspot.errors import StoreError

_VERSION = re.compile(r"^v(\d{4,})-\d{8}T\d{6}$")


def folder(path: Path) -> Path:
    """Where the versions of the database ``path`` live.

    >>> folder(Path("data/blindspot.duckdb"))
    PosixPath('data/blindspot.duckdb.snapshots')
    """
    path = Path(path)
    return path.with_name(path.name + ".snapshots")


def active_file(path: Path) -> Path:
    """The file an app should open for ``path`` now: the version the link points at, or the
    plain file itself (resolved once: the caller keeps using what it resolved)."""
    return Path(os.path.realpath(path))


def active_version(path: Path) -> str | None:
    """The active version's name, or None for a plain (unversioned) file or none at all."""
    path = Path(path)
    if not path.is_symlink():
        return None
    return Path(os.readlink(path)).stem


@dataclass(frozen=True)
class Version:
    name: str
    file: Path
    bytes: int
    manifest: dict
    active: bool


def versions(path: Path) -> list[Version]:
    """Published versions, oldest first."""
    path = Path(path)
    here, active = folder(path), active_version(path)
    out: list[Version] = []
    if not here.is_dir():
        return out
    for f in sorted(here.glob("v*.duckdb"), key=lambda p: _number(p.stem)):
        if not _VERSION.match(f.stem):
            continue
        manifest_file = f.with_suffix(".json")
        try:
            manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = {}
        out.append(Version(f.stem, f, f.stat().st_size, manifest, f.stem == active))
    return out


def _number(stem: str) -> int:
    m = _VERSION.match(stem)
    return int(m.group(1)) if m else -1


def _next_name(path: Path) -> str:
    """``v0001-20261203T101500``: a counter (order) and the time (for people)."""
    existing = [_number(p.stem) for p in folder(path).glob("v*")]
    n = max([0, *existing]) + 1
    return f"v{n:04d}-{dt.datetime.now():%Y%m%dT%H%M%S}"


def _point(path: Path, version_file: Path) -> None:
    """Move the link ``path`` to ``version_file`` atomically (a new link renamed over it)."""
    tmp = path.with_name(f".{path.name}.link-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(os.path.relpath(version_file, path.parent), tmp)
    os.replace(tmp, path)
    _sync_dir(path.parent)


def _sync_dir(directory: Path) -> None:
    """Make a rename durable (the directory entry), so a power cut cannot undo a publish."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- the loader lock ----------------------------------------------------------------------


class LoaderBusy(StoreError):
    """Another loader is writing the next version of this database."""


@contextlib.contextmanager
def loader_lock(path: Path, command: str, user: str | None = None) -> Iterator[None]:
    """Hold the one loader slot of ``path`` or raise :class:`LoaderBusy` at once, naming the
    holder (command, PID, user, start).  The lock is an ``flock``: the kernel drops it when
    the holder dies, so a killed loader never blocks the next one."""
    here = folder(Path(path))
    here.mkdir(parents=True, exist_ok=True)
    os.chmod(here, 0o700)
    lock_file = here / "loader.lock"
    info_file = here / "loader.json"
    fd = os.open(lock_file, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LoaderBusy(_busy_message(info_file)) from None
        info = {
            "command": command,
            "pid": os.getpid(),
            "user": user or os.environ.get("USER") or "",
            "started_at": dt.datetime.now().isoformat(timespec="seconds"),
        }
        info_file.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
        os.chmod(info_file, 0o600)
        try:
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                info_file.unlink()
    finally:
        os.close(fd)  # releases the flock


def _busy_message(info_file: Path) -> str:
    try:
        info = json.loads(info_file.read_text(encoding="utf-8"))
        who = (
            f"`{info.get('command')}` (PID {info.get('pid')}, 사용자 {info.get('user') or '-'}, "
            f"시작 {str(info.get('started_at', '')).replace('T', ' ')})"
        )
    except (OSError, ValueError):
        who = "작업 정보를 읽을 수 없음"
    return (
        f"다른 적재 작업이 데이터의 다음 판을 쓰고 있습니다: {who}. 그 작업이 끝난 뒤 다시 하세요 "
        "(앱은 그동안 지금 판으로 계속 서비스합니다)."
    )


# --- writing and publishing -------------------------------------------------------------


def _clean_partials(path: Path) -> None:
    """Partial files of loaders that died (only the lock holder calls this), and DuckDB's
    spill folder beside a partial file (``….partial.tmp``), left when a large load was killed."""
    for f in folder(path).glob("*.partial*"):
        if f.is_dir() and not f.is_symlink():
            shutil.rmtree(f, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                f.unlink()


def _adopt(path: Path) -> None:
    """A plain database file at ``path`` becomes version 1 (held lock)."""
    if path.is_symlink() or not path.exists():
        return
    name = _next_name(path)
    target = folder(path) / f"{name}.duckdb"
    os.replace(path, target)
    restrict(target)  # a file made under a loose umask holds personal data all the same
    # A file from before the operational store: its audit trail, targets, history and
    # entered outcomes move there now, once (the file becomes a version and is never adopted again).
    from blindspot.db.legacy import move_legacy

    move_legacy(target)
    _write_manifest(target, {"command": "adopt", "parent": None, "note": "스냅숏 도입 전 파일"})
    _point(path, target)


def _write_manifest(version_file: Path, fields: dict) -> None:
    manifest = {
        "version": version_file.stem,
        "created_at": dt.datetime.now().isoformat(timespec="seconds"),
        "bytes": version_file.stat().st_size,
        **fields,
    }
    out = version_file.with_suffix(".json")
    out.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    os.chmod(out, 0o600)


def _publish(path: Path, partial: Path, fields: dict) -> str:
    """Rename the finished ``partial`` into a version and move the link to it."""
    final = partial.with_name(partial.name.split(".partial")[0] + ".duckdb")
    with open(partial, "rb") as f:
        os.fsync(f.fileno())
    os.replace(partial, final)
    restrict(final)
    _write_manifest(final, fields)
    _point(path, final)
    prune(path)
    return final.stem


@dataclass
class Draft:
    """The next version being written: ``store`` is open read-write on its partial file.
    ``keep = False`` drops it instead of publishing (a load that changed nothing)."""

    store: Store
    name: str
    keep: bool = True
    published: str | None = None


@contextlib.contextmanager
def loader(path: Path, command: str, user: str | None = None) -> Iterator[Draft]:
    """Write the next version of ``path`` from a copy of the active one and publish it when
    the block succeeds; on any failure the copy is removed and the active version stays.

    Example::

        with loader(Path("data/blindspot.duckdb"), "score") as draft:
            score_round(draft.store, ...)
        # the app shows the new scores on its next page run
    """
    path = Path(path)
    with loader_lock(path, command, user):
        _clean_partials(path)
        if not path.exists():
            raise StoreError(
                f"데이터베이스가 없습니다: {path}. `make run` 또는 "
                "`python -m blindspot build-demo` 로 데모 데이터베이스를 먼저 만드세요."
            )
        _adopt(path)
        parent = active_version(path)
        name = _next_name(path)
        partial = folder(path) / f"{name}.partial"
        started = time.monotonic()
        shutil.copyfile(active_file(path), partial)  # copy_file_range: a reflink where the FS allows
        os.chmod(partial, 0o600)
        st = Store(partial)
        draft = Draft(st, name)
        try:
            yield draft
            if draft.keep:
                st.checkpoint()
        except BaseException:
            st.close()
            _clean_partials(path)
            raise
        st.close()
        if not draft.keep:
            _clean_partials(path)
            return
        draft.published = _publish(
            path,
            partial,
            {
                "command": command,
                "user": user or os.environ.get("USER") or "",
                "parent": parent,
                "write_seconds": round(time.monotonic() - started, 2),
            },
        )


@contextlib.contextmanager
def building(path: Path, command: str, user: str | None = None) -> Iterator[Draft]:
    """A new version built from nothing (``build-demo``, ``init-db``), published like
    :func:`loader`'s."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with loader_lock(path, command, user):
        _clean_partials(path)
        _adopt(path)
        parent = active_version(path)
        name = _next_name(path)
        partial = folder(path) / f"{name}.partial"
        st = Store(partial, create=True)
        draft = Draft(st, name)
        try:
            yield draft
        except BaseException:
            st.close()
            _clean_partials(path)
            raise
        st.close()
        with contextlib.suppress(FileNotFoundError):
            partial.with_name(partial.name + ".wal").unlink()
        draft.published = _publish(
            path, partial, {"command": command, "user": user or os.environ.get("USER") or "", "parent": parent}
        )


# --- keeping and choosing versions ----------------------------------------------------------


KEEP = settings.get("snapshots_keep")


def prune(path: Path, keep: int | None = None) -> list[str]:
    """Remove the oldest versions beyond ``keep`` (never the active one); returns their
    names.  A process still reading a removed file keeps its open handle until it switches."""
    keep = KEEP if keep is None else keep
    gone = []
    all_versions = versions(path)
    for v in all_versions[: max(0, len(all_versions) - keep)]:
        if v.active:
            continue
        for f in (v.file, v.file.with_suffix(".json")):
            with contextlib.suppress(FileNotFoundError):
                f.unlink()
        gone.append(v.name)
    return gone


def activate(path: Path, name: str, user: str | None = None) -> str:
    """Point ``path`` at an earlier (or later) published version: a rollback.  Takes the
    loader slot, so it never races a publish."""
    path = Path(path)
    with loader_lock(path, f"snapshots activate {name}", user):
        match = [v for v in versions(path) if v.name == name]
        if not match:
            names = ", ".join(v.name for v in versions(path)) or "없음"
            raise StoreError(f"없는 판입니다: {name}. 있는 판: {names}")
        _point(path, match[0].file)
    return name
