"""S3 requests are classified by botocore's model and map to the actions the S3 docs list."""

from __future__ import annotations

import pytest

from crosstrack.local.auth.operations import Classified, Unclassified
from crosstrack.local.services import s3_rules
from crosstrack.local.services.service_resources import passed_roles


def _needs(
    method: str, path: str, query: dict[str, str], headers: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    found = s3_rules.classify(method, path, query, headers or {})
    assert isinstance(found, Classified), found
    needs = s3_rules.needs(found, headers or {})
    assert not isinstance(needs, str)
    return [(need.action, need.resource) for need in needs]


B = "arn:aws:s3:::bucket"
K = "arn:aws:s3:::bucket/k"


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        ("GET", "/bucket", {}, "s3:ListBucket"),
        ("GET", "/bucket", {"list-type": "2"}, "s3:ListBucket"),
        ("HEAD", "/bucket", {}, "s3:ListBucket"),
        ("PUT", "/bucket", {}, "s3:CreateBucket"),
        ("PUT", "/bucket", {"encryption": ""}, "s3:PutEncryptionConfiguration"),
        ("GET", "/bucket", {"ownershipControls": ""}, "s3:GetBucketOwnershipControls"),
        ("PUT", "/bucket", {"publicAccessBlock": ""}, "s3:PutBucketPublicAccessBlock"),
        ("DELETE", "/bucket", {"policy": ""}, "s3:DeleteBucketPolicy"),
        ("DELETE", "/bucket", {"lifecycle": ""}, "s3:PutLifecycleConfiguration"),
        ("GET", "/bucket", {"lifecycle": ""}, "s3:GetLifecycleConfiguration"),
        ("GET", "/bucket", {"versions": ""}, "s3:ListBucketVersions"),
        ("GET", "/bucket", {"object-lock": ""}, "s3:GetBucketObjectLockConfiguration"),
        ("GET", "/bucket/k", {}, "s3:GetObject"),
        ("HEAD", "/bucket/k", {}, "s3:GetObject"),
        ("GET", "/bucket/k", {"versionId": "1"}, "s3:GetObjectVersion"),
        ("GET", "/bucket/k", {"tagging": "", "versionId": "1"}, "s3:GetObjectVersionTagging"),
        ("PUT", "/bucket/k", {}, "s3:PutObject"),
        ("DELETE", "/bucket/k", {}, "s3:DeleteObject"),
        ("DELETE", "/bucket/k", {"versionId": "1"}, "s3:DeleteObjectVersion"),
        ("DELETE", "/bucket/k", {"uploadId": "u"}, "s3:AbortMultipartUpload"),
        ("POST", "/bucket/k", {"uploads": ""}, "s3:PutObject"),
        ("PUT", "/bucket/k", {"partNumber": "1", "uploadId": "u"}, "s3:PutObject"),
        ("GET", "/bucket/k", {"uploadId": "u"}, "s3:ListMultipartUploadParts"),
    ],
)
def test_s3_request_needs_the_documented_action(
    method: str, path: str, query: dict[str, str], expected: str
) -> None:
    needs = _needs(method, path, query)
    assert needs[0][0] == expected
    assert needs[0][1] == (K if path.endswith("/k") else B)


def test_listing_buckets_is_list_all_my_buckets_on_star() -> None:
    assert _needs("GET", "/", {}) == [("s3:ListAllMyBuckets", "*")]


def test_a_copy_reads_its_source_and_writes_its_target() -> None:
    headers = {"x-amz-copy-source": "/src/a%20b?versionId=v1"}
    assert _needs("PUT", "/bucket/k", {}, headers) == [
        ("s3:GetObjectVersion", "arn:aws:s3:::src/a b"),
        ("s3:PutObject", K),
    ]
    part = _needs(
        "PUT", "/bucket/k", {"partNumber": "1", "uploadId": "u"}, {"x-amz-copy-source": "src/x"}
    )
    assert part == [("s3:GetObject", "arn:aws:s3:::src/x"), ("s3:PutObject", K)]


def test_acl_and_tagging_headers_need_their_own_actions() -> None:
    headers = {"x-amz-acl": "public-read", "x-amz-tagging": "a=b"}
    assert [a for a, _ in _needs("PUT", "/bucket/k", {}, headers)] == [
        "s3:PutObject",
        "s3:PutObjectAcl",
        "s3:PutObjectTagging",
    ]


def test_the_key_is_taken_as_moto_takes_it() -> None:
    found = s3_rules.classify("GET", "/bucket/a%2Fb/c%20d", {}, {})
    assert isinstance(found, Classified)
    assert found.params["Key"] == "a/b/c d"


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("POST", "/bucket", {"key": "iss_position.txt"}),  # a form upload, not a listing
        ("POST", "/bucket", {}),
        ("GET", "/bucket", {"acl": "", "tagging": ""}),  # two operations at once
        ("PATCH", "/bucket/k", {}),
        ("GET", "//bucket/k", {}),
        ("GET", "/buc%6Bet/k", {}),
    ],
)
def test_requests_that_are_no_single_operation_are_not_classified(
    method: str, path: str, query: dict[str, str]
) -> None:
    assert isinstance(s3_rules.classify(method, path, query, {}), Unclassified)


def test_unknown_query_keys_are_reported() -> None:
    found = s3_rules.classify("GET", "/bucket/k", {"restore": ""}, {})
    assert isinstance(found, Classified)
    assert found.unknown_query == ("restore",)


def test_delete_objects_body_is_parsed_strictly() -> None:
    body = (
        b"<Delete><Object><Key>a</Key></Object>"
        b"<Object><Key>b</Key><VersionId>v</VersionId></Object></Delete>"
    )
    parsed = s3_rules.parse_delete(body)
    assert parsed is not None
    assert [(e.key, e.version_id) for e in parsed.entries] == [("a", None), ("b", "v")]
    for broken in (b"", b"<Delete>", b"<Delete/>", b"<Other><Object><Key>a</Key></Object></Other>"):
        assert s3_rules.parse_delete(broken) is None


def test_passed_roles_are_found_in_nested_bodies() -> None:
    body = {"Targets": [{"Id": "1", "RoleArn": "arn:r1"}, {"Id": "2"}, {"RoleArn": "arn:r2"}]}
    assert passed_roles("Targets[].RoleArn", body) == ["arn:r1", "arn:r2"]
    assert passed_roles("Target.RoleArn", {"Target": {"RoleArn": "arn:r"}}) == ["arn:r"]


def test_the_delete_body_moto_gets_reads_back_as_the_keys_decided() -> None:
    # A bare CR written into the body would reach moto's parser as LF: another key.
    body = (
        b"<Delete><Quiet>true</Quiet><Object><Key>a&#13;b &amp; &lt;c&gt;</Key></Object></Delete>"
    )
    parsed = s3_rules.parse_delete(body)
    assert parsed is not None
    again = s3_rules.parse_delete(s3_rules.without(parsed, []))
    assert again is not None
    assert [e.key for e in again.entries] == ["a\rb & <c>"]


@pytest.mark.parametrize(
    "source",
    ["b/k#x", "b/k;p", "http://h/b/k", "//h/b/k", "b/k?versionId=1&versionId=2", "b/k?x=1", "b"],
)
def test_a_copy_source_moto_reads_otherwise_is_refused(source: str) -> None:
    found = s3_rules.classify("PUT", "/bucket/k", {}, {"x-amz-copy-source": source})
    assert isinstance(found, Classified)
    assert isinstance(s3_rules.needs(found, {"x-amz-copy-source": source}), str)


def test_a_copy_source_is_decoded_once() -> None:
    headers = {"x-amz-copy-source": "/src/dir/a%20b%2Bc?versionId=v%2B1"}
    found = s3_rules.classify("PUT", "/bucket/k", {}, headers)
    assert isinstance(found, Classified)
    needs = s3_rules.needs(found, headers)
    assert not isinstance(needs, str)
    assert (needs[0].action, needs[0].resource) == (
        "s3:GetObjectVersion",
        "arn:aws:s3:::src/dir/a b+c",
    )
