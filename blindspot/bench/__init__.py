"""`python -m blindspot bench`: build at a scale and time the product's own queries."""
