"""The council briefing: aggregates for one area and round, and the pack (a PDF and PNGs).

Modules: ``data`` the suppressed aggregates and targets, ``pack`` the PDF and PNGs, ``sql`` its
statements.  Described in ``docs/briefing.md``."""
