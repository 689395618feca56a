"""When a signed request is valid: AWS's clock rules for header signatures and presigned URLs.

* A header-signed request is refused when its ``X-Amz-Date`` is more than 15 minutes away
  from the server's clock
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html):
  S3 answers ``RequestTimeTooSkewed``; the other services ``Signature expired: <date> is now
  earlier than <now - 15 min> (<now> - 15 min.)`` (or ``Signature not yet current: …``).
* A presigned URL is governed by ``X-Amz-Date`` + ``X-Amz-Expires`` instead; the expiry may
  be at most 604800 seconds (7 days)
  (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).

Pure functions of the signed data and ``now``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from crosstrack.local.auth.sigv4 import SignedRequest

SKEW = dt.timedelta(minutes=15)
MAX_PRESIGN_SECONDS = 604800
_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class TimeProblem:
    kind: str  # "skewed" | "expired" | "parameters"
    message: str


def _parse(stamp: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(stamp, _FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _fmt(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(_FORMAT)


def check(  # noqa: PLR0911 - one answer per documented rule
    signed: SignedRequest, now: dt.datetime
) -> TimeProblem | None:
    """The clock problem of a request whose signature verified, or ``None``."""
    issued = _parse(signed.amz_date)
    if issued is None:
        return TimeProblem("parameters", f"X-Amz-Date {signed.amz_date!r} is not a valid date")
    if signed.presigned:
        expires = signed.expires_seconds
        if expires is None or expires < 0:
            return TimeProblem("parameters", "X-Amz-Expires must be non-negative")
        if expires > MAX_PRESIGN_SECONDS:
            return TimeProblem(
                "parameters",
                f"X-Amz-Expires must be less than a week (in seconds) that is "
                f"{MAX_PRESIGN_SECONDS}",
            )
        if now > issued + dt.timedelta(seconds=expires):
            return TimeProblem("expired", "Request has expired")
        if issued - now > SKEW:
            return TimeProblem("expired", "Request is not valid yet")
        return None
    if now - issued > SKEW:
        return TimeProblem(
            "skewed",
            f"Signature expired: {_fmt(issued)} is now earlier than {_fmt(now - SKEW)} "
            f"({_fmt(now)} - 15 min.)",
        )
    if issued - now > SKEW:
        return TimeProblem(
            "skewed",
            f"Signature not yet current: {_fmt(issued)} is still later than "
            f"{_fmt(now + SKEW)} ({_fmt(now)} + 15 min.)",
        )
    return None
