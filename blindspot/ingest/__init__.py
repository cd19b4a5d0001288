"""Loading real extraction files: readers, validation and its report, the atomic load, round files."""
