"""Malformed policies and requests: each gives its own PolicyError naming the JSON path."""

from __future__ import annotations

from typing import Any

import pytest

from crosstrack.iam import PolicyError, PolicyKind, parse_policy, simulate

V = "2012-10-17"
OK = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


def _doc(**changes: Any) -> dict[str, Any]:
    statement = {**OK, **changes}
    return {"Version": V, "Statement": [{k: v for k, v in statement.items() if v is not None}]}


MALFORMED = [
    (
        "unknown top-level element",
        {"Version": V, "Statement": [OK], "Extra": 1},
        "identity",
        "$.Extra",
        "unknown element",
    ),
    (
        "unknown Version",
        {"Version": "2013-01-01", "Statement": [OK]},
        "identity",
        "$.Version",
        "unknown Version",
    ),
    ("missing Statement", {"Version": V}, "identity", "$", "missing Statement"),
    (
        "empty Statement list",
        {"Version": V, "Statement": []},
        "identity",
        "$.Statement",
        "at least one",
    ),
    (
        "Statement not an object",
        {"Version": V, "Statement": ["x"]},
        "identity",
        "$.Statement[0]",
        "JSON object",
    ),
    (
        "unknown statement element",
        _doc(Actions="s3:*"),
        "identity",
        "$.Statement[0].Actions",
        "unknown element",
    ),
    ("bad Effect", _doc(Effect="allow"), "identity", "$.Statement[0].Effect", "'Allow' or 'Deny'"),
    ("missing Effect", _doc(Effect=None), "identity", "$.Statement[0].Effect", "'Allow' or 'Deny'"),
    ("no Action", _doc(Action=None), "identity", "$.Statement[0]", "Action or NotAction"),
    (
        "Action and NotAction",
        _doc(NotAction="s3:*"),
        "identity",
        "$.Statement[0]",
        "both Action and NotAction",
    ),
    (
        "malformed action",
        _doc(Action="s3GetObject"),
        "identity",
        "$.Statement[0].Action",
        "malformed action",
    ),
    (
        "malformed action in a list",
        _doc(Action=["s3:GetObject", "nope"]),
        "identity",
        "$.Statement[0].Action[1]",
        "malformed action",
    ),
    (
        "empty action list",
        _doc(Action=[]),
        "identity",
        "$.Statement[0].Action",
        "must not be empty",
    ),
    (
        "non-string action",
        _doc(Action=[3]),
        "identity",
        "$.Statement[0].Action[0]",
        "non-empty strings",
    ),
    (
        "no Resource in an identity policy",
        _doc(Resource=None),
        "identity",
        "$.Statement[0]",
        "needs Resource",
    ),
    (
        "malformed ARN",
        _doc(Resource="arn:aws:s3:bucket"),
        "identity",
        "$.Statement[0].Resource",
        "malformed ARN",
    ),
    (
        # "You can't use a wildcard in the service segment that identifies the AWS product."
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html)
        "wildcard in the service segment",
        _doc(Resource=["arn:aws:s3:::b/*", "arn:aws:s*:::b/*"]),
        "identity",
        "$.Statement[0].Resource[1]",
        "no wildcard in the service segment",
    ),
    (
        "? in the service segment of a NotResource",
        _doc(Resource=None, NotResource="arn:aws:sq?:us-east-1:111122223333:q"),
        "identity",
        "$.Statement[0].NotResource",
        "no wildcard in the service segment",
    ),
    (
        "not an ARN",
        _doc(Resource="bucket/key"),
        "identity",
        "$.Statement[0].Resource",
        "malformed ARN",
    ),
    (
        "Principal in an identity policy",
        _doc(Principal="*"),
        "identity",
        "$.Statement[0].Principal",
        "not allowed in a identity policy",
    ),
    (
        "NotPrincipal in an identity policy",
        _doc(NotPrincipal={"AWS": "111122223333"}),
        "identity",
        "$.Statement[0].NotPrincipal",
        "not allowed",
    ),
    (
        "Principal in a boundary",
        _doc(Principal="*"),
        "boundary",
        "$.Statement[0].Principal",
        "not allowed",
    ),
    ("Principal in an SCP", _doc(Principal="*"), "scp", "$.Statement[0].Principal", "not allowed"),
    ("no Principal in a bucket policy", _doc(), "resource", "$.Statement[0]", "needs Principal"),
    (
        "unknown principal type",
        _doc(Principal={"User": "x"}),
        "resource",
        "$.Statement[0].Principal.User",
        "unknown principal type",
    ),
    (
        "malformed principal ARN",
        _doc(Principal={"AWS": "arn:aws:iam::12:user/x"}),
        "resource",
        "$.Statement[0].Principal.AWS",
        "not a principal ARN",
    ),
    (
        "wildcard inside a principal ARN",
        _doc(Principal={"AWS": "arn:aws:iam::111122223333:role/*"}),
        "resource",
        "$.Statement[0].Principal.AWS",
        "wildcards are not allowed",
    ),
    (
        "RCP with a named principal",
        _doc(Principal={"AWS": "111122223333"}),
        "rcp",
        "$.Statement[0].Principal",
        'Principal": "*"',
    ),
    (
        "unknown condition operator",
        _doc(Condition={"StringEqual": {"k": "v"}}),
        "identity",
        "$.Statement[0].Condition.StringEqual",
        "unknown condition operator",
    ),
    (
        "unknown set operator",
        _doc(Condition={"ForSomeValues:StringEquals": {"k": "v"}}),
        "identity",
        "$.Statement[0].Condition.ForSomeValues:StringEquals",
        "unknown set operator",
    ),
    (
        "NullIfExists does not exist",
        _doc(Condition={"NullIfExists": {"k": "true"}}),
        "identity",
        "$.Statement[0].Condition.NullIfExists",
        "Null takes no IfExists",
    ),
    (
        "Numeric value not a number",
        _doc(Condition={"NumericLessThan": {"s3:max-keys": "ten"}}),
        "identity",
        "$.Statement[0].Condition.NumericLessThan.s3:max-keys[0]",
        "needs a number",
    ),
    (
        "Numeric value with an underscore (Python's float() would take it)",
        _doc(Condition={"NumericLessThan": {"s3:max-keys": "1_000"}}),
        "identity",
        "$.Statement[0].Condition.NumericLessThan.s3:max-keys[0]",
        "needs a number",
    ),
    (
        "Date value not a date",
        _doc(Condition={"DateLessThan": {"aws:CurrentTime": "soon"}}),
        "identity",
        "$.Statement[0].Condition.DateLessThan.aws:CurrentTime[0]",
        "needs a date",
    ),
    (
        "Bool value not a boolean",
        _doc(Condition={"Bool": {"aws:SecureTransport": "yes"}}),
        "identity",
        "$.Statement[0].Condition.Bool.aws:SecureTransport[0]",
        "'true' or 'false'",
    ),
    (
        "IpAddress not an address",
        _doc(Condition={"IpAddress": {"aws:SourceIp": "300.1.1.1/8"}}),
        "identity",
        "$.Statement[0].Condition.IpAddress.aws:SourceIp[0]",
        "IP address",
    ),
    (
        "BinaryEquals not base64",
        _doc(Condition={"BinaryEquals": {"k": "***"}}),
        "identity",
        "$.Statement[0].Condition.BinaryEquals.k[0]",
        "base64",
    ),
    (
        "Arn operator without an ARN",
        _doc(Condition={"ArnLike": {"aws:SourceArn": "topic"}}),
        "identity",
        "$.Statement[0].Condition.ArnLike.aws:SourceArn[0]",
        "needs an ARN",
    ),
    (
        "condition operator without keys",
        _doc(Condition={"StringEquals": {}}),
        "identity",
        "$.Statement[0].Condition.StringEquals",
        "key -> values",
    ),
    (
        "condition key without values",
        _doc(Condition={"StringEquals": {"k": []}}),
        "identity",
        "$.Statement[0].Condition.StringEquals.k",
        "at least one value",
    ),
    (
        "condition value of a wrong type",
        _doc(Condition={"StringEquals": {"k": {"a": 1}}}),
        "identity",
        "$.Statement[0].Condition.StringEquals.k[0]",
        "string, number or boolean",
    ),
    (
        "malformed policy variable",
        _doc(Resource="arn:aws:s3:::b/${aws:username, default}"),
        "identity",
        "$.Statement[0].Resource",
        "malformed policy variable",
    ),
    (
        "duplicate Sid",
        {"Version": V, "Statement": [{**OK, "Sid": "A"}, {**OK, "Sid": "A"}]},
        "identity",
        "$.Statement[1].Sid",
        "duplicate Sid",
    ),
]


@pytest.mark.parametrize(
    ("doc", "kind", "path", "fragment"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_policy_gives_its_specific_error(
    doc: dict[str, Any], kind: str, path: str, fragment: str
) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(doc, kind)
    assert info.value.path == path
    assert fragment in info.value.problem


def test_trust_policy_needs_no_resource() -> None:
    doc = {
        "Version": V,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    assert parse_policy(doc, PolicyKind.TRUST).statements[0].resources is None
    with pytest.raises(PolicyError, match="needs Resource"):
        parse_policy(doc, PolicyKind.RESOURCE)


def test_invalid_json_text_and_unknown_kind() -> None:
    with pytest.raises(PolicyError, match="not valid JSON"):
        parse_policy("{", "identity")
    with pytest.raises(PolicyError, match="unknown policy kind"):
        parse_policy(_doc(), "bucket")


def test_simulate_roots_paths_in_the_case() -> None:
    case = {
        "request": {
            "principal": "arn:aws:iam::111122223333:user/a",
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::b/k",
            "resource_account": "111122223333",
        },
        "identity_policies": [_doc(), {"name": "bad", "document": _doc(Effect="Permit")}],
    }
    with pytest.raises(PolicyError) as info:
        simulate(case)
    assert info.value.path == "$.identity_policies[1].document.Statement[0].Effect"


BAD_CASES = [
    ("unknown case key", {"request": {}, "identity_policy": []}, "$.identity_policy"),
    ("missing request", {}, "$.request"),
    (
        "missing action",
        {"request": {"principal": "111122223333", "resource": "*"}},
        "$.request.action",
    ),
    (
        "malformed action",
        {
            "request": {
                "principal": "111122223333",
                "action": "GetObject",
                "resource": "arn:aws:s3:::b/k",
                "resource_account": "111122223333",
            }
        },
        "$.request.action",
    ),
    (
        "malformed principal",
        {
            "request": {
                "principal": "alice",
                "action": "s3:GetObject",
                "resource": "arn:aws:s3:::b/k",
                "resource_account": "111122223333",
            }
        },
        "$.request.principal",
    ),
    (
        "S3 resource without account",
        {
            "request": {
                "principal": "111122223333",
                "action": "s3:GetObject",
                "resource": "arn:aws:s3:::b/k",
            }
        },
        "$.request.resource_account",
    ),
    (
        "principal_arn of another role",
        {
            "request": {
                "principal": "arn:aws:sts::111122223333:assumed-role/app/s",
                "principal_arn": "arn:aws:iam::111122223333:role/other",
                "action": "s3:GetObject",
                "resource": "arn:aws:s3:::b/k",
                "resource_account": "111122223333",
            }
        },
        "$.request.principal_arn",
    ),
    (
        "context value of a wrong type",
        {
            "request": {
                "principal": "111122223333",
                "action": "s3:GetObject",
                "resource": "arn:aws:s3:::b/k",
                "resource_account": "111122223333",
                "context": {"k": 3},
            }
        },
        "$.request.context.k",
    ),
    (
        "identity policies for a service principal",
        {
            "request": {
                "principal": "lambda.amazonaws.com",
                "action": "sts:AssumeRole",
                "resource": "arn:aws:iam::111122223333:role/r",
            },
            "identity_policies": [_doc()],
        },
        "$.identity_policies",
    ),
    (
        "an empty SCP level",
        {
            "request": {
                "principal": "111122223333",
                "action": "s3:GetObject",
                "resource": "arn:aws:s3:::b/k",
                "resource_account": "111122223333",
            },
            "scps": [[]],
        },
        "$.scps[0]",
    ),
]


@pytest.mark.parametrize(
    ("case", "path"), [b[1:] for b in BAD_CASES], ids=[b[0] for b in BAD_CASES]
)
def test_bad_case_gives_its_specific_error(case: dict[str, Any], path: str) -> None:
    with pytest.raises(PolicyError) as info:
        simulate(case)
    assert info.value.path == path
