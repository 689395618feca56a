"""Errors in each service's own format, with AWS's message shapes."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.parsers import create_parser

from crosstrack.iam import Layer, Verdict
from crosstrack.local.auth import denials
from crosstrack.local.auth.denials import Problem

PRINCIPAL = "arn:aws:sts::222222222222:assumed-role/access-s3-bucket/s1"


def _parse(service: str, operation: str, error: denials.AwsErrorResponse) -> dict[str, object]:
    """What botocore (boto3, awscli) makes of the response."""
    model = botocore.session.get_session().get_service_model(service)
    parser = create_parser(model.metadata["protocol"])
    response = {
        "status_code": error.code,
        "headers": dict(error.get_headers()),
        "body": error.get_body().encode(),
    }
    return parser.parse(response, model.operation_model(operation).output_shape)["Error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [
        ("sts", "AssumeRole", "AccessDenied"),
        ("iam", "GetRole", "AccessDenied"),
        ("s3", "GetObject", "AccessDenied"),
        ("kms", "Decrypt", "AccessDeniedException"),
        ("lambda", "GetFunction", "AccessDeniedException"),
        ("scheduler", "GetSchedule", "AccessDeniedException"),
        ("logs", "CreateLogGroup", "AccessDeniedException"),
    ],
)
def test_access_denied_parses_in_each_protocol(service: str, operation: str, code: str) -> None:
    error = denials.error(service, Problem.ACCESS_DENIED, "req-1", "User: x is not authorized")
    parsed = _parse(service, operation, error)
    assert parsed["Code"] == code
    assert parsed["Message"] == "User: x is not authorized"


@pytest.mark.parametrize(
    ("service", "problem", "code"),
    [
        ("sts", Problem.UNKNOWN_KEY, "InvalidClientTokenId"),
        ("s3", Problem.UNKNOWN_KEY, "InvalidAccessKeyId"),
        ("sts", Problem.BAD_SIGNATURE, "SignatureDoesNotMatch"),
        ("kms", Problem.BAD_SIGNATURE, "InvalidSignatureException"),
        ("s3", Problem.EXPIRED_TOKEN, "ExpiredToken"),
        ("lambda", Problem.UNKNOWN_KEY, "UnrecognizedClientException"),
    ],
)
def test_authentication_failures_use_the_service_code(
    service: str, problem: Problem, code: str
) -> None:
    assert denials.error(service, problem, "r").aws_code == code


def test_implicit_deny_message_names_the_missing_policy_type() -> None:
    message = denials.access_denied_message(
        PRINCIPAL,
        "s3:DeleteObject",
        "arn:aws:s3:::b/k",
        decision=Verdict.IMPLICIT_DENY,
        layer=Layer.IDENTITY,
        quote_resource=True,
    )
    assert message == (
        f"User: {PRINCIPAL} is not authorized to perform: s3:DeleteObject on resource: "
        '"arn:aws:s3:::b/k" because no identity-based policy allows the s3:DeleteObject action'
    )


@pytest.mark.parametrize(
    ("layer", "phrase"),
    [
        (Layer.RESOURCE_POLICY, "with an explicit deny in a resource-based policy"),
        (Layer.PERMISSION_BOUNDARY, "with an explicit deny in a permissions boundary"),
        (Layer.SESSION_POLICY, "with an explicit deny in a session policy"),
        (Layer.SCP, "with an explicit deny in a service control policy"),
        (Layer.RCP, "with an explicit deny in a resource control policy"),
        (Layer.IDENTITY, "with an explicit deny in an identity-based policy"),
    ],
)
def test_explicit_deny_message_names_the_layer(layer: Layer, phrase: str) -> None:
    message = denials.access_denied_message(
        PRINCIPAL, "s3:GetObject", "*", decision=Verdict.EXPLICIT_DENY, layer=layer
    )
    assert message == f"User: {PRINCIPAL} is not authorized to perform: s3:GetObject {phrase}"


def test_assume_role_denials_do_not_explain() -> None:
    message = denials.access_denied_message(
        "arn:aws:iam::111111111111:user/operator",
        "sts:AssumeRole",
        "arn:aws:iam::222222222222:role/terraform",
        decision=Verdict.IMPLICIT_DENY,
        layer=Layer.RESOURCE_POLICY,
        explain=False,
    )
    assert message.endswith("on resource: arn:aws:iam::222222222222:role/terraform")


def test_json_error_body_is_json_with_type_and_message() -> None:
    body = json.loads(denials.error("kms", Problem.ACCESS_DENIED, "r", "no").get_body())
    assert body == {"__type": "AccessDeniedException", "message": "no"}
