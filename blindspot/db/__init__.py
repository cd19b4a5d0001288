"""Storage: the DuckDB store, its schema and migrations, the per-읍면동 aggregates, and the operational store.

Modules: ``store`` connections, ``schema`` tables and migrations, ``sql`` shared statements,
``queries`` read-side queries, ``aggregates`` the maps' aggregates, ``opstore`` shared login
state.  Described in ``docs/data-model.md``."""
