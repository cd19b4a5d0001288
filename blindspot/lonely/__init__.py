"""고독사 위험 (the lonely-death lens): one-person households by life stage crossed with the
catalogue's ``lonely_death`` indicators, the household-level 고독사 위험 grade, and its
measurement against the general risk score.  Described in docs/lonely.md.
"""
