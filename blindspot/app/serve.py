"""``python -m blindspot serve``: the app behind the server gate."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from blindspot import config
from blindspot.app import auth, webguard

NOT_READY = "이 서버 프로세스는 자료를 열 수 없어 요청을 받지 않습니다. 다른 프로세스로 연결하세요."
READY_CHECK_SECONDS = 2.0  # a health probe every second costs one check per this many seconds


def readiness(db_path=None, ops_url: str | None = None) -> Callable[[], str | None]:
    """The health check of this process: the analytical store and the operational store must
    open.  Returns a function giving None when ready, else a Korean reason that names no path,
    process or account (the health address needs no sign-in); the details go to stderr."""
    from blindspot.db import opstore
    from blindspot.db import store as store_mod
    from blindspot.db.snapshots import active_file

    last: list = [0.0, None]
    lock = threading.Lock()

    def not_ready() -> str | None:
        with lock:
            if time.monotonic() - last[0] < READY_CHECK_SECONDS:
                return last[1]
            try:
                # The version apps read now, read-only: what a page run would open.
                store_mod.open_store(active_file(db_path or config.db_path()), read_only=True)
                opstore.open_ops(ops_url)
                reason = None
            except Exception as exc:  # any failure to open is "not ready", never a crash of the gate
                print(f"health: not ready: {type(exc).__name__}: {exc}", file=sys.stderr)
                reason = NOT_READY
            last[:] = [time.monotonic(), reason]
            return reason

    return not_ready


def serve(address: str, port: int) -> None:
    """Run the app behind the server gate (:class:`blindspot.app.webguard.Guard`): uploads and
    downloads only for signed-in sessions with their browser's cookie, security headers,
    no metrics without an admin.  Blocks until stopped.  Refuses to start (AuthConfigError)
    when the account file is unusable, e.g. demo accounts in production mode."""
    from starlette.middleware import Middleware
    from streamlit import config as st_config
    from streamlit import runtime

    settings = auth.load()["settings"]
    upload_mb = max(1, min(int(settings["max_upload_mb"]), int(st_config.get_option("server.maxUploadSize"))))

    def held(session_id: str) -> int:
        if not runtime.exists():
            return 0
        return len(runtime.get_instance().uploaded_file_mgr.file_storage.get(session_id, {}))

    def sweep() -> None:
        # Streamlit keeps a closed tab's uploads until its stored session is next looked up,
        # which may be never: drop the files of every session that is not connected.
        while True:
            time.sleep(5)
            if runtime.exists():
                rt = runtime.get_instance()
                manager = rt.uploaded_file_mgr
                for sid in list(manager.file_storage):
                    if not rt.is_active_session(sid):
                        manager.remove_session_files(sid)

    threading.Thread(target=sweep, name="blindspot-upload-sweep", daemon=True).start()
    guard = webguard.GuardSettings(
        max_upload_bytes=upload_mb * 2**20,
        trusted_proxies=tuple(settings.get("trusted_proxies") or ()),
        secure_cookie=bool(settings.get("secure_cookie")),
        held_uploads=held,
        not_ready=readiness(),
        script_hashes=webguard.inline_script_hashes(
            (Path(st.__file__).parent / "static" / "index.html").read_text("utf-8")
        ),
    )
    app = st.App(str(config.PROJECT_DIR / "app.py"), middleware=[Middleware(webguard.Guard, settings=guard)])
    app.run(
        config={
            "server.address": address,
            "server.port": int(port),
            "server.headless": True,
            "server.maxUploadSize": upload_mb,
            "client.showErrorDetails": "none",
            # After every page run Streamlit forces a full collection, gc.collect(2), which
            # walked the ~0.5 M long-lived objects of the imported libraries: ~0.2 CPU-s per
            # page, more than the pages (py-spy on this server).  Python's own generational
            # collection still runs.
            "runner.postScriptGC": False,
            # No reload on source changes in service: the watcher scanned every loaded module
            # after each run and woke on every file the server read (~30 % of its CPU).
            "server.fileWatcherType": "none",
        }
    )
