"""Domain errors of the reporter.

AWS and HTTP errors are translated once, at the edge (session, positions, ledger), into
these, so the handler and the CLI can report a failure by what it means rather than by
which library raised it.
"""

from __future__ import annotations

from typing import Final

from crosstrack.errors import CrosstrackError

# A source's failure reason is logged and returned: never a payload's worth of text.
MAX_REASON_CHARS: Final = 300


def cap_reason(text: str, limit: int = MAX_REASON_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    cut = f"... ({len(text) - limit} more characters)"
    return text[: max(0, limit - len(cut))] + cut


class ReporterError(CrosstrackError):
    """Base of every error the reporter raises on purpose."""


class ConfigError(ReporterError):
    """A setting is missing or invalid; raised at cold start, before any AWS call."""


class RuntimeUnsupportedError(ReporterError):
    """The botocore in this runtime cannot do what the reporter relies on."""


class CredentialsError(ReporterError):
    """Assuming the cross-account role failed (denied, missing role, bad ExternalId...)."""


class SourceError(ReporterError):
    """One ISS position source failed; the message says why. The next source is tried."""


class AllSourcesFailedError(ReporterError):
    """Every configured ISS position source failed; the log object was not touched."""

    def __init__(self, failures: dict[str, str]) -> None:
        self.failures = dict(failures)
        detail = "; ".join(f"{name}: {reason}" for name, reason in failures.items())
        super().__init__(f"no ISS position source answered ({detail})")


class LedgerError(ReporterError):
    """The S3 log object could not be read or written."""


class LogAccessDeniedError(LedgerError):
    """S3 refused access (403): a permission problem, never taken for a missing object."""


class LogCorruptError(LedgerError):
    """The existing log object is not a crosstrack/original log; it is left untouched."""


class LogConflictError(LedgerError):
    """Concurrent writers kept winning; the bounded retries ran out."""


class DeadlineExceededError(ReporterError):
    """Too little of the invocation's time is left to finish; nothing was written.

    Raised (and logged as outcome ``timeout``) before Lambda's own timeout would kill the
    function without a word.
    """
