"""The reach gap (발굴 격차): where predicted need goes unfound — expected crisis households
(the sum of the model's calibrated probabilities) beside the households found and supported,
per 읍면동, 시군구 and round, with an exact interval, hot spots, a trend, a page, a briefing
page and the ``reach-gap`` command.  Described in docs/reach-gap.md.
"""
