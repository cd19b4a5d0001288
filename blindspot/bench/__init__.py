"""``python -m blindspot bench``: build at a scale and time the product's own queries.

Modules: ``run`` the command, ``maps`` map and hotspot timings, ``sql`` the layout comparison.
Results and targets are in ``docs/maps.md`` (maps) and ``docs/data-model.md`` (table layout)."""
