"""The push's own error."""

from listbuilder.errors import DataError


class PushError(DataError):
    """The destination refused or kept failing; what it accepted so far is journalled."""
