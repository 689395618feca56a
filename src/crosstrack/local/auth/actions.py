"""Values shared by the request mapping: context values, S3 ARNs and their condition keys.

Which operation a request is comes from operations.py (botocore's models), which actions it
needs from operation_actions.py and s3_rules.py, and on which resources from
service_resources.py. What is left here is small and shared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from crosstrack.local.accounts import PARTITION

ContextValue = str | list[str]


@dataclass(frozen=True)
class Requested:
    """One action on one resource, with the service-specific context keys it carries."""

    action: str
    resource: str
    resource_account: str | None
    context: dict[str, ContextValue] = field(default_factory=dict)


def request_context(now: dt.datetime, *, secure: bool, region: str) -> dict[str, ContextValue]:
    """The global condition keys of every request, whoever sends it: a client or one of the
    emulator's own services
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html;
    ``aws:CurrentTime`` is ISO 8601 in UTC, ``aws:EpochTime`` seconds since the epoch)."""
    return {
        "aws:SecureTransport": "true" if secure else "false",
        "aws:CurrentTime": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
        "aws:RequestedRegion": region,
    }


def s3_resource(bucket: str | None, key: str | None) -> str:
    if not bucket:
        return "*"
    return f"arn:{PARTITION}:s3:::{bucket}/{key}" if key else f"arn:{PARTITION}:s3:::{bucket}"


def split_s3_arn(arn: str) -> tuple[str | None, str | None]:
    """(bucket, key) of an ``arn:aws:s3:::bucket[/key]`` (moto's resource string)."""
    if not arn.startswith("arn:") or arn.endswith(":::*"):
        return None, None
    path = arn.split(":::", 1)[1]
    bucket, _, key = path.partition("/")
    return bucket or None, key or None


def s3_context(
    action: str, query: Mapping[str, str], headers: Mapping[str, str]
) -> dict[str, ContextValue]:
    """S3 condition keys the request carries (only those present, as AWS does)."""
    context: dict[str, ContextValue] = {}
    for header, ctx in (
        ("x-amz-server-side-encryption", "s3:x-amz-server-side-encryption"),
        (
            "x-amz-server-side-encryption-aws-kms-key-id",
            "s3:x-amz-server-side-encryption-aws-kms-key-id",
        ),
        ("x-amz-acl", "s3:x-amz-acl"),
        ("x-amz-content-sha256", "s3:x-amz-content-sha256"),
        ("x-amz-storage-class", "s3:x-amz-storage-class"),
    ):
        if header in headers:
            context[ctx] = headers[header]
    if action in ("ListBucket", "ListBucketVersions"):
        for name in ("prefix", "delimiter", "max-keys"):
            if name in query:
                context[f"s3:{name}"] = query[name]
    return context


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


def resource_account(resource: str, default: str) -> str:
    """The account owning a resource: the one in its ARN (S3 ARNs carry none)."""
    return _arn_account(resource) or default
