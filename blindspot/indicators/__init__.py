"""The catalogue of crisis indicators and their domains (blindspot/data/indicators.csv)."""
