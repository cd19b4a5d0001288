"""Special support zones (사회보장 특별지원구역): a transparent composite need index per 시군구
(national) and per 읍면동 (within one 시군구), its components and editable weights, rank
intervals by a bootstrap over rounds, the ranking as XLSX with its method, a one-page briefing,
the ``zones`` command and its ``bench --json`` timing.  Described in docs/zones.md.
"""
