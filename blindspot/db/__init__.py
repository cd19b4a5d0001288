"""Storage: the DuckDB store, its schema and migrations, the per-읍면동 aggregates, and the operational store."""
