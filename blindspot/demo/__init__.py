"""The deterministic synthetic world calibrated to the field, and the demo build.

Modules: ``synthetic`` runs the stages ``areas``, ``households``, ``signals``, ``visits`` (with
``streams`` and ``calibration``); ``build`` writes a database; ``inputs`` lists the build's
source files.  Described in ``docs/synthetic-data.md``."""
