"""복지사각지대 지도 — router: page config, (login in a later issue), navigation."""

import streamlit as st

from blindspot import ui
from blindspot.errors import BlindspotError

st.set_page_config(page_title="복지사각지대 지도", page_icon="🗺️", layout="wide")

try:
    ui.data_info()
except BlindspotError as exc:
    st.error(str(exc))
    st.stop()

nav = st.navigation([
    st.Page("views/overview.py", title="개요", icon="📊", default=True),
    st.Page("views/region_map.py", title="지역 지도", icon="🗺️"),
    st.Page("views/hotspots.py", title="핫스팟", icon="🔥"),
    st.Page("views/model.py", title="위험 모델", icon="🧮"),
    st.Page("views/data_admin.py", title="데이터 관리", icon="📥"),
])
ui.synthetic_banner()
nav.run()
ui.footer()
