"""복지사각지대 지도 — router: page config, login, navigation of the pages the user's role may open."""

import streamlit as st

from blindspot import config
from blindspot.access import pages_for
from blindspot.app import cache, login, runlog, widgets
from blindspot.app.pages import PAGES
from blindspot.errors import BlindspotError

config.private_umask()  # the database's WAL and anything else the app writes: not world-readable

# No icons: an emoji shows as a box without an emoji font, and a Material icon (set_page_config's
# page_icon or a page's icon) becomes the favicon, which the browser fetches from
# fonts.gstatic.com (the browser test's Content-Security-Policy check caught it): nothing may be
# fetched at run time.  Streamlit's own favicon is served by the app.
st.set_page_config(page_title="복지사각지대 지도", layout="wide")

# The run as the sessions bench joins it to a browser's step: which session, who, which page
# (blindspot/app/runlog.py; nothing is written unless the setting run_log is set).
run: dict = {"session": login.session_id(), "page": None}


def _who() -> dict:
    return run | {"user": getattr(st.session_state.get("scope"), "user", None)}


with runlog.timed(_who):
    try:
        cache.data_info()
        scope = login.require_login()
    except BlindspotError as exc:
        st.error(str(exc))
        st.stop()

    allowed = pages_for(scope.role)
    nav = st.navigation([st.Page(PAGES[k][0], title=PAGES[k][1], default=(i == 0)) for i, k in enumerate(allowed)])
    run["page"] = nav.url_path
    widgets.synthetic_banner()
    login.sidebar(scope)
    try:
        nav.run()
    except BlindspotError as exc:
        # Last resort for what a page did not handle, e.g. the operational store going down
        # mid-session: a Korean sentence (household rows fail closed), never a traceback.
        st.error(str(exc))
    widgets.footer()
