"""The catalogue of crisis indicators and their domains (blindspot/data/indicators.csv).

Module: ``catalogue``.  How the indicators drive the synthetic signals is in
``docs/synthetic-data.md``; their columns in an extraction file in ``docs/ingest-format.md``."""
