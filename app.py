"""복지사각지대 지도 — router: page config, login, navigation of the pages the user's role may open."""

import streamlit as st

from blindspot import config
from blindspot.access import pages_for
from blindspot.app import cache, login, widgets
from blindspot.errors import BlindspotError

config.private_umask()  # the database's WAL and anything else the app writes: not world-readable

st.set_page_config(page_title="복지사각지대 지도", page_icon=":material/map:", layout="wide")

try:
    cache.data_info()
    scope = login.require_login()
except BlindspotError as exc:
    st.error(str(exc))
    st.stop()

# Material icons come with Streamlit's own font: they render where no emoji font is installed.
PAGES = {
    "overview": ("views/overview.py", "개요", ":material/dashboard:"),
    "region_map": ("views/region_map.py", "지역 지도", ":material/map:"),
    "hotspots": ("views/hotspots.py", "핫스팟", ":material/local_fire_department:"),
    "briefing": ("views/briefing.py", "브리핑", ":material/co_present:"),
    "model": ("views/model.py", "위험 모델", ":material/model_training:"),
    "risk_list": ("views/risk_list.py", "위험 가구 목록", ":material/list_alt:"),
    "audit": ("views/audit.py", "감사 기록", ":material/policy:"),
    "data_admin": ("views/data_admin.py", "데이터 관리", ":material/upload_file:"),
}
allowed = pages_for(scope.role)
nav = st.navigation(
    [st.Page(PAGES[k][0], title=PAGES[k][1], icon=PAGES[k][2], default=(i == 0)) for i, k in enumerate(allowed)]
)
widgets.synthetic_banner()
login.sidebar(scope)
try:
    nav.run()
except BlindspotError as exc:
    # Last resort for what a page did not handle, e.g. the operational store going down
    # mid-session: a Korean sentence (household rows fail closed), never a traceback.
    st.error(str(exc))
widgets.footer()
