"""The pages of the app: each page's script (under ``views/``) and Korean title, in one table for
the router (``app.py``), the page timings (:mod:`blindspot.app.pagebench`) and the page tests.
Which role may open which page is :data:`blindspot.access.PAGES`."""

PAGES = {
    "overview": ("views/overview.py", "개요"),
    "region_map": ("views/region_map.py", "지역 지도"),
    "hotspots": ("views/hotspots.py", "핫스팟"),
    "reach_gap": ("views/reach_gap.py", "발굴 격차"),
    "lonely": ("views/lonely.py", "고독사 위험"),
    "zones": ("views/zones.py", "특별지원구역"),
    "briefing": ("views/briefing.py", "브리핑"),
    "model": ("views/model.py", "위험 모델"),
    "risk_list": ("views/risk_list.py", "위험 가구 목록"),
    "followups": ("views/followups.py", "후속 관리"),
    "audit": ("views/audit.py", "감사 기록"),
    "data_admin": ("views/data_admin.py", "데이터 관리"),
}
PAGE_FILES = {name: file for name, (file, _) in PAGES.items()}
PAGE_TITLES = {name: title for name, (_, title) in PAGES.items()}
