"""후속 관리 (follow-up cadence): a case per household flagged 위험·주의, kept across rounds in
one of four tiers (위험, 주의, 관심, 종결), each with a contact cadence; the contacts officials
record; the due list "이번 주 연락 대상".  Described in docs/followups.md.

* :mod:`~blindspot.followup.cadence` — tiers, cadence in days, the Korean holiday calendar and
  the next-contact arithmetic (pure, no database);
* :mod:`~blindspot.followup.cases` — cases from bands, tier changes, contacts, the due list and
  the briefing's count (operational store + the analytical snapshot, scoped and audited);
* :mod:`~blindspot.followup.entries` — an official's entries: contacts, tiers, taking, releasing
  and handing a case over (audited, refused outside the official's 시군구);
* :mod:`~blindspot.followup.colleagues` — who may receive a case handed over (the officials of
  its 시군구, from the account file);
* :mod:`~blindspot.followup.sql` — the operational tables and the snapshot statements;
* :mod:`~blindspot.followup.command` — ``python -m blindspot followups``;
* :mod:`~blindspot.followup.bench` — ``followups_ms`` of ``bench --json``.
"""
