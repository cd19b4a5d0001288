"""Welfare blind-spot map (복지사각지대 지도): domain package.

Nothing in this package imports streamlit except :mod:`blindspot.app.ui`, the thin
module of cached wrappers used by the pages.
"""

__version__ = "0.1.0"
