"""Errors of the local AWS that a user can act on (the CLI prints them and exits 1)."""

from __future__ import annotations

from crosstrack.errors import CrosstrackError


class LocalAWSError(CrosstrackError):
    """Base class: the local AWS could not start, bootstrap or answer."""


class PortInUseError(LocalAWSError):
    """The requested port is taken by another process."""


class MissingDependencyError(LocalAWSError):
    """A package of the ``local`` extra is not installed (moto, cryptography, cheroot)."""


class MotoSeamError(LocalAWSError):
    """The installed moto is not the version whose internals crosstrack patches."""


class BootstrapError(LocalAWSError):
    """The bootstrap JSON under infra/bootstrap/ is missing or invalid."""
