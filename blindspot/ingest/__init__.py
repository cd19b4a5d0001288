"""Loading real extraction files: readers, validation and its report, the atomic load, round files.

Modules: ``readers`` and ``xlsx`` reading, ``schema`` the format as data, ``validation`` and
``report`` checks and the problem report, ``load`` the load, ``exchange`` round files and figures,
``sql`` their statements.  Described in ``docs/ingest-format.md``."""
