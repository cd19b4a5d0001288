"""Errors that carry a message meant for a person, not a stack trace."""


class BlindspotError(Exception):
    """A problem the user can act on; the message says what is wrong and what to do."""


class GeoDataError(BlindspotError):
    """Boundary or population data is missing, malformed or does not match."""


class StoreError(BlindspotError):
    """The database cannot be opened or is of another schema version."""


class AccessDenied(BlindspotError):
    """The caller's scope does not allow what was asked."""
