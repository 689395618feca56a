"""Errors of the Lambda packaging step."""

from __future__ import annotations

from crosstrack.errors import CrosstrackError


class PackagingError(CrosstrackError):
    """The zip could not be built; the message says what to do about it."""
