"""Errors of the Lambda packaging step."""

from __future__ import annotations


class PackagingError(Exception):
    """The zip could not be built; the message says what to do about it."""
