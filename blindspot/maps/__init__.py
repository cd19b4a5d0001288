"""Maps: per-area measures, choropleth rendering, H3 hexagons, hotspot statistics.

Modules: ``data`` measures, ``render`` breaks and decks, ``palette`` colours, ``spatial`` and
``hotspots`` Gi*/Moran/emerging hotspots, ``hexgrid`` H3 cells, ``sql`` their statements.
Described in ``docs/maps.md``."""
