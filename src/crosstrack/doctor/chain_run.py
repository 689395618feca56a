"""What ``doctor chain`` and ``doctor explain --policies`` share: the flags' KEY=VALUE pairs,
the one source of policies, and the request an explained denial stands for."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from crosstrack.doctor.calls import LiveSource, PolicyDir, Source
from crosstrack.doctor.chain import ChainRequest
from crosstrack.doctor.explain import Denial
from crosstrack.doctor.model import DoctorInputError


def pairs(flag: str, values: Sequence[str], *, bare_key: str | None = None) -> dict[str, str]:
    """``KEY=VALUE`` flags as a map; with ``bare_key``, a value without ``=`` goes there."""
    out: dict[str, str] = {}
    for value in values:
        key, eq, rest = value.partition("=")
        if not eq:
            if bare_key is None:
                raise DoctorInputError(f"{flag} {value!r}: expected KEY=VALUE")
            key, rest = bare_key, key
        if not key or not rest:
            raise DoctorInputError(f"{flag} {value!r}: expected KEY=VALUE")
        out[key] = rest
    return out


def source(policies: Path | None, profiles: Sequence[str], region: str) -> Source:
    """``--policies DIR`` or ``--profile ACCOUNT=PROFILE`` (one per account), not both."""
    if policies is not None and profiles:
        raise DoctorInputError("choose one source: --policies DIR or --profile ACCOUNT=PROFILE")
    if policies is not None:
        return PolicyDir(policies)
    if not profiles:
        raise DoctorInputError("give --policies DIR, or --profile ACCOUNT=PROFILE per account")
    import boto3
    from botocore.exceptions import BotoCoreError

    sessions = {}
    for account, profile in pairs("--profile", profiles).items():
        if not (account.isdigit() and len(account) == 12):
            raise DoctorInputError(f"--profile {account}={profile}: ACCOUNT is a 12-digit id")
        try:
            sessions[account] = boto3.Session(profile_name=profile)
        except BotoCoreError as exc:  # an unknown profile, a broken config file
            raise DoctorInputError(str(exc)) from None
    return LiveSource(sessions, region)


def request_for(denial: Denial, **options: object) -> ChainRequest:
    """The chain an explained denial stands for: a denied AssumeRole is a hop to that role;
    anything else is the principal's own request."""
    if not denial.principal or not denial.action or not denial.resource:
        raise DoctorInputError(
            "the message does not name the principal, action and resource: run `crosstrack "
            "doctor chain --principal ARN --action ACTION --resource ARN --policies DIR`"
        )
    if denial.action.lower() == "sts:assumerole" and ":role/" in denial.resource:
        return ChainRequest(denial.principal, via=(denial.resource,), **options)  # type: ignore[arg-type]
    return ChainRequest(denial.principal, action=denial.action, resource=denial.resource,
                        **options)  # type: ignore[arg-type]  # fmt: skip
