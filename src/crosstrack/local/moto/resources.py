"""S3, KMS, Lambda and Scheduler state of the pinned moto, read and written as plain values.

Buckets are global (a bucket name belongs to one account, as in AWS); keys, functions and
schedules live per account and region. What crosstrack reads of them — policies, tags,
encryption settings, a function's code and configuration, schedule targets — comes from
these functions only, so a change in moto's models breaks here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from moto.awslambda.models import lambda_backends
from moto.kms.models import kms_backends
from moto.kms.utils import _deserialize_ciphertext_blob
from moto.s3.models import s3_backends
from moto.scheduler.models import scheduler_backends

from crosstrack.local.accounts import PARTITION, REGION


@dataclass(frozen=True)
class Bucket:
    name: str
    account: str
    policy: bytes | str | None
    encryption: Mapping[str, Any]  # the bucket's default encryption configuration


@dataclass(frozen=True)
class StoredObject:
    encryption: str | None  # "AES256", "aws:kms", …
    kms_key_id: str | None


@dataclass(frozen=True)
class Key:
    """A KMS key."""

    arn: str
    account: str
    policy: str


@dataclass(frozen=True)
class FunctionConfig:
    """What the runner needs of a deployed function."""

    name: str
    arn: str
    account: str
    region: str
    role: str
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    environment: Mapping[str, str]
    code_sha256: str
    code: bytes = field(repr=False)
    max_retry_attempts: int = 2
    on_failure_destination: str | None = None


@dataclass(frozen=True)
class Schedule:
    """An EventBridge Scheduler schedule and its target."""

    name: str
    arn: str
    state: str  # "ENABLED" | "DISABLED"
    expression: str
    target: Mapping[str, Any]


# ---------------------------------------------------------------------------- S3
def bucket_account(bucket: str) -> str | None:
    """The account that owns a bucket (bucket names are global, as in AWS)."""
    owner = s3_backends.bucket_accounts.get(bucket)
    return None if owner is None else str(owner[1])


def _bucket(name: str) -> Any | None:
    account = bucket_account(name)
    if account is None:
        return None
    return s3_backends[account][PARTITION].buckets.get(name)


def bucket(name: str) -> Bucket | None:
    found = _bucket(name)
    if found is None:
        return None
    return Bucket(
        name=name,
        account=str(found.account_id),
        policy=found.policy or None,
        encryption=getattr(found, "encryption", None) or {},
    )


def bucket_region(name: str) -> str | None:
    """The region a bucket was created in (its LocationConstraint, us-east-1 by default)."""
    found = _bucket(name)
    return None if found is None else str(found.region_name)


def stored_object(bucket_name: str, key: str) -> StoredObject | None:
    """The object ``key`` of the bucket (its latest version), if it exists."""
    found = _bucket(bucket_name)
    stored = found.keys.get(key) if found is not None else None
    if stored is None:
        return None
    return StoredObject(
        encryption=str(stored.encryption) if stored.encryption else None,
        kms_key_id=str(stored.kms_key_id) if stored.kms_key_id else None,
    )


def has_object(bucket_name: str, key: str) -> bool:
    found = _bucket(bucket_name)
    return found is not None and key in found.keys


def get_bucket_policy(account: str, bucket_name: str) -> bytes | None:
    policy = s3_backends[account][PARTITION].get_bucket_policy(bucket_name)
    return bytes(policy) if policy else None


def put_bucket_policy(account: str, bucket_name: str, policy: bytes) -> None:
    s3_backends[account][PARTITION].put_bucket_policy(bucket_name, policy)


def delete_bucket_policy(account: str, bucket_name: str) -> None:
    s3_backends[account][PARTITION].delete_bucket_policy(bucket_name)


# --------------------------------------------------------------------------- KMS
def kms_key(account: str, key_id: str, region: str = REGION) -> Key | None:
    """A KMS key by id, ARN or alias, in the account the identifier names (else ``account``)."""
    if key_id.startswith("arn:"):
        parts = key_id.split(":")
        account, region = parts[4], parts[3]
    backend = kms_backends[account][region]
    try:
        found = backend.describe_key(key_id)
    except Exception:  # moto raises its NotFoundException family; absence is the answer
        return None
    return Key(arn=str(found.arn), account=str(found.account_id), policy=str(found.policy))


def ciphertext_key_id(blob: bytes) -> str | None:
    """The key id a moto ciphertext blob names, read with moto's own deserializer (a
    36-byte key-id header, moto/kms/utils.py); ``None`` for anything that is not such a
    blob. Never raises: the blob is whatever a caller sent."""
    try:
        key_id = str(_deserialize_ciphertext_blob(blob).key_id)
    except Exception:  # too short, not UTF-8, not bytes: no key named
        return None
    return key_id or None


def ciphertext_key(key_id: str, *, account: str, region: str) -> Key | None:
    """The key whose id is exactly ``key_id`` (as moto's decrypt looks it up: no alias, no
    ARN), in ``account`` — the caller's, where moto's Decrypt and ReEncrypt look — else in
    any other account's backend of ``region`` (key ids are random UUIDs, unique across
    accounts; in AWS the ciphertext's metadata names the key's account)."""
    accounts = [account, *(other for other in list(kms_backends) if other != account)]
    for owner in accounts:
        regions = dict.get(kms_backends, owner)
        # dict.get, not [...]: reading must not create another account's backends.
        backend = dict.get(regions, region) if regions is not None else None
        found = backend.keys.get(key_id) if backend is not None else None
        if found is not None:
            return Key(arn=str(found.arn), account=str(found.account_id), policy=str(found.policy))
    return None


def kms_key_tags(account: str, region: str, key_id: str) -> list[tuple[str, str]]:
    """The tags of a key (none when the key does not exist: KMS answers that itself)."""
    try:
        listed = kms_backends[account][region].list_resource_tags(key_id)["Tags"]
    except Exception:  # the key does not exist: moto answers NotFoundException itself
        return []
    return [(str(t["TagKey"]), str(t["TagValue"])) for t in listed]


# ------------------------------------------------------------------------ Lambda
def function_policy(account: str, function_name: str, region: str = REGION) -> str | None:
    """The resource-based policy of a Lambda function (the ``AddPermission`` statements)."""
    try:
        text = lambda_backends[account][region].get_policy(function_name, None)
    except Exception:  # moto raises ResourceNotFound when no statement was ever added
        return None
    return str(text) if text else None


def function(name: str, *, account: str, region: str = REGION) -> FunctionConfig:
    """The deployed function's configuration and code (code bytes are not downloadable
    through moto's API, so they are read from its model)."""
    fn = lambda_backends[account][region].get_function(name, None)
    retries, destination = 2, None
    if fn.event_invoke_config:
        config = fn.event_invoke_config[0].config
        retries = int(config.get("MaximumRetryAttempts", 2))
        destination = config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    return FunctionConfig(
        name=fn.function_name,
        arn=fn.function_arn,
        account=account,
        region=region,
        role=fn.role,
        handler=str(fn.handler),
        runtime=fn.run_time or "",
        timeout=int(fn.timeout),
        memory_size=int(fn.memory_size),
        environment=dict(fn.environment_vars or {}),
        code_sha256=fn.code_sha_256,
        code=fn.code_bytes,
        max_retry_attempts=retries,
        on_failure_destination=destination,
    )


# --------------------------------------------------------------------- Scheduler
def schedules(account: str, region: str = REGION) -> list[Schedule]:
    """Every schedule of the account, in every schedule group."""
    backend = scheduler_backends[account][region]
    return [
        Schedule(
            name=str(s.name),
            arn=str(s.arn),
            state=str(s.state),
            expression=str(s.schedule_expression),
            target=dict(s.target or {}),
        )
        for group in backend.schedule_groups.values()
        for s in group.schedules.values()
    ]
