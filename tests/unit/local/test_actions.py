"""S3 requests map to the IAM actions the S3 docs list, not to moto's operation names."""

from __future__ import annotations

import pytest

from crosstrack.local import actions


@pytest.mark.parametrize(
    ("method", "key", "query", "action"),
    [
        ("GET", None, {}, "ListBucket"),
        ("HEAD", None, {}, "ListBucket"),
        ("PUT", None, {}, "CreateBucket"),
        ("PUT", None, {"encryption": ""}, "PutEncryptionConfiguration"),
        ("GET", None, {"ownershipControls": ""}, "GetBucketOwnershipControls"),
        ("PUT", None, {"publicAccessBlock": ""}, "PutBucketPublicAccessBlock"),
        ("DELETE", None, {"policy": ""}, "DeleteBucketPolicy"),
        ("GET", None, {"versions": ""}, "ListBucketVersions"),
        ("GET", "k", {}, "GetObject"),
        ("HEAD", "k", {}, "GetObject"),
        ("GET", "k", {"versionId": "1"}, "GetObjectVersion"),
        ("PUT", "k", {}, "PutObject"),
        ("DELETE", "k", {}, "DeleteObject"),
        ("DELETE", "k", {"versionId": "1"}, "DeleteObjectVersion"),
        ("POST", None, {"delete": ""}, "DeleteObject"),
        ("POST", "k", {"uploads": ""}, "PutObject"),
    ],
)
def test_s3_action(method: str, key: str | None, query: dict[str, str], action: str) -> None:
    assert actions.s3_action(method, "bucket", key, query) == action


def test_listing_buckets_is_list_all_my_buckets() -> None:
    assert actions.s3_action("GET", None, None, {}) == "ListAllMyBuckets"


def test_lambda_invoke_is_invoke_function() -> None:
    assert actions.iam_action("lambda", "Invoke") == "lambda:InvokeFunction"
    assert actions.iam_action("iam", "GetRole") == "iam:GetRole"


def test_passed_roles_are_found_in_nested_bodies() -> None:
    body = {"Targets": [{"Id": "1", "RoleArn": "arn:r1"}, {"Id": "2"}, {"RoleArn": "arn:r2"}]}
    assert actions.passed_roles("Targets[].RoleArn", body) == ["arn:r1", "arn:r2"]
    assert actions.passed_roles("Target.RoleArn", {"Target": {"RoleArn": "arn:r"}}) == ["arn:r"]
