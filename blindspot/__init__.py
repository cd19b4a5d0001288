"""Welfare blind-spot map (복지사각지대 지도): domain package.

Feature subpackages (``db``, ``geo``, ``indicators``, ``demo``, ``model``, ``maps``,
``ingest``, ``casework``, ``briefing``, ``bench``, ``app``) sit under the shared rules at
the top (``access``, ``config``, ``vocab``, ``errors``, ``cli``).  Only ``blindspot.app``
imports streamlit (with ``app.py`` and ``views/``).
"""

__version__ = "0.6.0"
