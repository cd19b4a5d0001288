"""The council briefing: aggregates for one area and round, and the PDF/PPTX pack."""
