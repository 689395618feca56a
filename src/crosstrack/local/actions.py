"""Which IAM action on which resource a request is, as IAM's authorization sees it.

moto names operations after the API; IAM authorizes actions, sometimes under another name
(Lambda ``Invoke`` is ``lambda:InvokeFunction``; S3 ``PutBucketEncryption`` is
``s3:PutEncryptionConfiguration``), and on a resource ARN moto does not compute for most
services. The tables follow the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html)
and, for S3, https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

from crosstrack.local.accounts import PARTITION

ContextValue = str | list[str]


@dataclass(frozen=True)
class Requested:
    """One action on one resource, with the service-specific context keys it carries."""

    action: str
    resource: str
    resource_account: str | None
    context: dict[str, ContextValue] = field(default_factory=dict)


# API operation -> IAM action, where they differ.
_RENAMED = {
    "lambda": {"Invoke": "InvokeFunction", "InvokeWithResponseStream": "InvokeFunction"},
    "logs": {"ListTagsForResource": "ListTagsForResource"},
}

# S3 bucket sub-resources (query keys) per method -> action; default last.
_S3_BUCKET: dict[str, dict[str, str]] = {
    "GET": {
        "acl": "GetBucketAcl",
        "cors": "GetBucketCORS",
        "encryption": "GetEncryptionConfiguration",
        "lifecycle": "GetLifecycleConfiguration",
        "location": "GetBucketLocation",
        "logging": "GetBucketLogging",
        "notification": "GetBucketNotification",
        "object-lock": "GetBucketObjectLockConfiguration",
        "ownershipControls": "GetBucketOwnershipControls",
        "policy": "GetBucketPolicy",
        "policyStatus": "GetBucketPolicyStatus",
        "publicAccessBlock": "GetBucketPublicAccessBlock",
        "replication": "GetReplicationConfiguration",
        "requestPayment": "GetBucketRequestPayment",
        "tagging": "GetBucketTagging",
        "uploads": "ListBucketMultipartUploads",
        "versioning": "GetBucketVersioning",
        "versions": "ListBucketVersions",
        "website": "GetBucketWebsite",
        "accelerate": "GetAccelerateConfiguration",
        "analytics": "GetAnalyticsConfiguration",
        "intelligent-tiering": "GetIntelligentTieringConfiguration",
        "inventory": "GetInventoryConfiguration",
        "metrics": "GetMetricsConfiguration",
        "": "ListBucket",
    },
    "PUT": {
        "acl": "PutBucketAcl",
        "cors": "PutBucketCORS",
        "encryption": "PutEncryptionConfiguration",
        "lifecycle": "PutLifecycleConfiguration",
        "logging": "PutBucketLogging",
        "notification": "PutBucketNotification",
        "object-lock": "PutBucketObjectLockConfiguration",
        "ownershipControls": "PutBucketOwnershipControls",
        "policy": "PutBucketPolicy",
        "publicAccessBlock": "PutBucketPublicAccessBlock",
        "replication": "PutReplicationConfiguration",
        "requestPayment": "PutBucketRequestPayment",
        "tagging": "PutBucketTagging",
        "versioning": "PutBucketVersioning",
        "website": "PutBucketWebsite",
        "accelerate": "PutAccelerateConfiguration",
        "analytics": "PutAnalyticsConfiguration",
        "intelligent-tiering": "PutIntelligentTieringConfiguration",
        "inventory": "PutInventoryConfiguration",
        "metrics": "PutMetricsConfiguration",
        "": "CreateBucket",
    },
    "DELETE": {
        "cors": "PutBucketCORS",
        "encryption": "PutEncryptionConfiguration",
        "lifecycle": "PutLifecycleConfiguration",
        "ownershipControls": "PutBucketOwnershipControls",
        "policy": "DeleteBucketPolicy",
        "publicAccessBlock": "PutBucketPublicAccessBlock",
        "replication": "PutReplicationConfiguration",
        "tagging": "PutBucketTagging",
        "website": "DeleteBucketWebsite",
        "analytics": "PutAnalyticsConfiguration",
        "intelligent-tiering": "PutIntelligentTieringConfiguration",
        "inventory": "PutInventoryConfiguration",
        "metrics": "PutMetricsConfiguration",
        "": "DeleteBucket",
    },
    "HEAD": {"": "ListBucket"},
    "POST": {"delete": "DeleteObject", "": "ListBucket"},
}

_S3_OBJECT: dict[str, dict[str, str]] = {
    "GET": {
        "uploadId": "ListMultipartUploadParts",
        "acl": "GetObjectAcl",
        "tagging": "GetObjectTagging",
        "attributes": "GetObjectAttributes",
        "retention": "GetObjectRetention",
        "legal-hold": "GetObjectLegalHold",
        "": "GetObject",
    },
    "HEAD": {"": "GetObject"},
    "PUT": {
        "acl": "PutObjectAcl",
        "tagging": "PutObjectTagging",
        "retention": "PutObjectRetention",
        "legal-hold": "PutObjectLegalHold",
        "": "PutObject",
    },
    "DELETE": {
        "uploadId": "AbortMultipartUpload",
        "tagging": "DeleteObjectTagging",
        "": "DeleteObject",
    },
    "POST": {
        "uploads": "PutObject",
        "uploadId": "PutObject",
        "restore": "RestoreObject",
        "": "PutObject",
    },
}
# With ?versionId= the *Version variants apply (GetObjectVersion, DeleteObjectVersion, …).
_VERSIONED = {
    "GetObject",
    "GetObjectAcl",
    "GetObjectTagging",
    "PutObjectAcl",
    "PutObjectTagging",
    "DeleteObject",
    "DeleteObjectTagging",
}


def _pick(table: Mapping[str, str], query_keys: set[str]) -> str:
    for sub, action in table.items():
        if sub and sub in query_keys:
            return action
    return table[""]


def s3_action(method: str, bucket: str | None, key: str | None, query: Mapping[str, str]) -> str:
    """The IAM action of an S3 REST request, from its method and sub-resource."""
    keys = set(query)
    method = method.upper()
    if not bucket:
        return "ListAllMyBuckets"
    if not key:
        return _pick(_S3_BUCKET.get(method, {"": "ListBucket"}), keys)
    action = _pick(_S3_OBJECT.get(method, {"": "GetObject"}), keys)
    if "versionId" in keys and action in _VERSIONED:
        action = action.replace("Object", "ObjectVersion", 1)
    return action


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


Param = Callable[[str], object]


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


def _iam_resource(get: Param, account: str) -> str:
    base = f"arn:{PARTITION}:iam::{account}:"
    path = str(get("Path") or "/")
    for param, kind in (
        ("RoleName", "role"),
        ("UserName", "user"),
        ("GroupName", "group"),
        ("InstanceProfileName", "instance-profile"),
    ):
        name = get(param)
        if name:
            return f"{base}{kind}{path}{name}"
    arn = get("PolicyArn")
    if arn:
        return str(arn)
    name = get("PolicyName")
    return f"{base}policy{path}{name}" if name else "*"


def _function_arn(get: Param, region: str, account: str) -> str:
    name = get("FunctionName") or get("function_name") or get("resource_arn")
    if not name:
        return "*"
    name = unquote(str(name))
    if name.startswith("arn:"):
        return name
    return f"arn:{PARTITION}:lambda:{region}:{account}:function:{name}"


def service_resource(  # noqa: PLR0911 - one answer per service
    service: str,
    operation: str,
    get: Param,
    *,
    region: str,
    account: str,
    role_arn: Callable[[str], str | None],
    key_arn: Callable[[str], str | None],
) -> str:
    """The resource ARN a non-S3 request acts on, or ``*`` where IAM uses none."""
    if service == "sts":
        return str(get("RoleArn")) if operation.startswith("AssumeRole") else "*"
    if service == "iam":
        resource = _iam_resource(get, account)
        if get("RoleName") and not operation.startswith("Create"):
            # An existing role's ARN carries its real path, whatever Path says.
            return role_arn(str(get("RoleName"))) or resource
        return resource
    if service == "kms":
        # Alias operations are authorized on the key too (Create/UpdateAlias: the target,
        # DeleteAlias: the key the alias names); the alias-ARN half is not modelled.
        key = get("KeyId") or get("TargetKeyId") or get("AliasName")
        return (key_arn(str(key)) or "*") if key else "*"
    if service == "lambda":
        return _function_arn(get, region, account)
    if service == "logs":
        group = get("logGroupName")
        return f"arn:{PARTITION}:logs:{region}:{account}:log-group:{group}:*" if group else "*"
    if service == "scheduler":
        name = get("Name")
        if not name:
            return "*"
        if "ScheduleGroup" in operation:
            return f"arn:{PARTITION}:scheduler:{region}:{account}:schedule-group/{name}"
        group = get("GroupName") or "default"
        return f"arn:{PARTITION}:scheduler:{region}:{account}:schedule/{group}/{name}"
    if service == "events":
        rule = get("Rule") or (get("Name") if "Rule" in operation else None)
        return f"arn:{PARTITION}:events:{region}:{account}:rule/{rule}" if rule else "*"
    return "*"


def iam_action(service: str, operation: str) -> str:
    return f"{service}:{_RENAMED.get(service, {}).get(operation, operation)}"


def resource_account(resource: str, default: str) -> str:
    """The account owning a resource: the one in its ARN (S3 ARNs carry none)."""
    return _arn_account(resource) or default


# Operations that hand a role to a service, and where the role ARN is in the request.
PASS_ROLE: dict[str, tuple[str, str]] = {
    "lambda:CreateFunction": ("Role", "lambda.amazonaws.com"),
    "lambda:UpdateFunctionConfiguration": ("Role", "lambda.amazonaws.com"),
    "scheduler:CreateSchedule": ("Target.RoleArn", "scheduler.amazonaws.com"),
    "scheduler:UpdateSchedule": ("Target.RoleArn", "scheduler.amazonaws.com"),
    "events:PutTargets": ("Targets[].RoleArn", "events.amazonaws.com"),
}


def passed_roles(spec: str, body: object) -> list[str]:
    """Role ARNs found at ``spec`` (``A.B`` or ``A[].B``) in a parsed JSON body."""
    found: list[str] = []

    def walk(node: object, parts: list[str]) -> None:
        if not parts:
            if isinstance(node, str) and node:
                found.append(node)
            return
        head, rest = parts[0], parts[1:]
        if head.endswith("[]"):
            items = node.get(head[:-2]) if isinstance(node, dict) else None
            for item in items if isinstance(items, list) else []:
                walk(item, rest)
        elif isinstance(node, dict):
            walk(node.get(head), rest)

    walk(body, spec.split("."))
    return found
