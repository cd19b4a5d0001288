"""The web app layer, the only package that imports streamlit (with ``app.py`` and ``views/``).

Modules: ``auth`` accounts and password policy, ``login`` sign-in, ``cache`` page caches, ``data`` the
pages' calls, ``widgets`` shared page parts, ``serve`` and ``webguard`` the server gate.  Described in
``docs/access.md`` (sign-in, server gate, uploads and downloads)."""
