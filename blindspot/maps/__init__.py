"""Maps: per-area measures, choropleth rendering, H3 hexagons, hotspot statistics."""
