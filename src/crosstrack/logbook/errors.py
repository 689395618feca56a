"""Errors of the log reader and the map; all derive from :class:`CrosstrackError`."""

from __future__ import annotations

from crosstrack.errors import CrosstrackError, InputError


class LogbookError(CrosstrackError):
    """Reading, following or drawing the log failed; the message says why and what to do."""


class LogbookInputError(InputError, LogbookError):
    """A flag, file or time the user gave cannot be used (exit code 2)."""


class LogNotFoundError(LogbookError):
    """The log object (or bucket) does not exist."""


class LogAccessError(LogbookError):
    """S3 or STS refused access: a permission or credentials problem."""


class MapExtraMissingError(LogbookError):
    """matplotlib is not installed: ``crosstrack map`` needs the ``map`` extra."""
