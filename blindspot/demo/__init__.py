"""The deterministic synthetic world calibrated to the field, and the demo build."""
