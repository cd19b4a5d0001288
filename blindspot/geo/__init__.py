"""Korea's administrative geography: 시도, 시군구, 읍면동 boundaries, population and adjacency.

Modules: ``regions`` loading and reading the geography, ``sql`` its statements.  The tables are
described in ``docs/data-model.md``."""
