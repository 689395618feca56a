"""explain: the AccessDenied shapes users paste, CloudTrail events and local audit entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crosstrack.cli import app
from crosstrack.doctor.explain import parse_event, parse_text, relevant_rows
from crosstrack.doctor.model import DoctorInputError

DATA = Path(__file__).resolve().parents[2] / "data" / "doctor"
SESSION_A = (
    "arn:aws:sts::111111111111:assumed-role/connect-to-bridge/write-report-to-crossaccount-s3"
)
SESSION_B = "arn:aws:sts::222222222222:assumed-role/access-s3-bucket/crosstrack-3f1c9a2e"
ROLE_B = "arn:aws:iam::222222222222:role/access-s3-bucket"

# (message, principal, action, resource, blamed, explicit)
SHAPES = {
    # STS as the reporter logs it (botocore's ClientError text; the local AWS says the same)
    "sts-sdk": (
        "An error occurred (AccessDenied) when calling the AssumeRole operation: User: "
        f"{SESSION_A} is not authorized to perform: sts:AssumeRole on resource: {ROLE_B}",
        SESSION_A,
        "sts:AssumeRole",
        ROLE_B,
        None,
        False,
    ),
    # IAM's newer message with the policy type (IAM User Guide, troubleshoot_access-denied)
    "iam-implicit": (
        f"User: {SESSION_A} is not authorized to perform: sts:AssumeRole on resource: {ROLE_B} "
        "because no identity-based policy allows the sts:AssumeRole action",
        SESSION_A,
        "sts:AssumeRole",
        ROLE_B,
        "identity-based policy",
        False,
    ),
    # explicit deny naming the policy and the console link (IAM's authorization-id preview)
    "iam-explicit-with-arn": (
        "User: arn:aws:iam::123456789012:user/janedoe is not authorized to perform: "
        "iam:CreateInstanceProfile on resource: arn:aws:iam::123456789012:instance-profile/"
        "my-instance-profile with an explicit deny in an identity-based policy: "
        "arn:aws:iam::123456789012:policy/ExampleDenyPolicy. Go to https://us-east-1.console."
        "aws.amazon.com/iam/home?region=us-east-1#/authorization-details/EXAMPLE1a2b3c4d5e",
        "arn:aws:iam::123456789012:user/janedoe",
        "iam:CreateInstanceProfile",
        "arn:aws:iam::123456789012:instance-profile/my-instance-profile",
        "identity-based policy",
        True,
    ),
    # Lambda's AccessDeniedException through the scheduler's role
    "lambda-invoke": (
        "An error occurred (AccessDeniedException) when calling the Invoke operation: User: "
        "arn:aws:sts::111111111111:assumed-role/write-report-to-crossaccount-s3-scheduler/"
        "4c0ffee0 is not authorized to perform: lambda:InvokeFunction on resource: "
        "arn:aws:lambda:us-east-1:111111111111:function:write-report-to-crossaccount-s3 "
        "because no identity-based policy allows the lambda:InvokeFunction action",
        "arn:aws:sts::111111111111:assumed-role/write-report-to-crossaccount-s3-scheduler/4c0ffee0",
        "lambda:InvokeFunction",
        "arn:aws:lambda:us-east-1:111111111111:function:write-report-to-crossaccount-s3",
        "identity-based policy",
        False,
    ),
    # S3's XML body with the detailed message (resource in quotes) and a bucket-policy deny
    "s3-xml-detailed": (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>'
        f"User: {SESSION_B} is not authorized to perform: s3:PutObject on resource: "
        '"arn:aws:s3:::iss-reporting-1/iss_position.txt" with an explicit deny in a '
        "resource-based policy</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>",
        SESSION_B,
        "s3:PutObject",
        "arn:aws:s3:::iss-reporting-1/iss_position.txt",
        "resource-based policy",
        True,
    ),
    # S3's classic XML body: no principal, no action
    "s3-xml-bare": (
        "<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>"
        "656c76696e6727732072657175657374</RequestId><HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2"
        "Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>",
        None,
        None,
        None,
        None,
        False,
    ),
    # the AWS CLI's s3 cp failure
    "s3-cli": (
        "upload failed: ./iss_position.txt to s3://iss-reporting-1/iss_position.txt An error "
        "occurred (AccessDenied) when calling the PutObject operation: Access Denied",
        None,
        "s3:PutObject",
        "arn:aws:s3:::iss-reporting-1/iss_position.txt",
        None,
        False,
    ),
    # KMS behind S3: the key policy does not name role B
    "kms-ciphertext": (
        "An error occurred (AccessDenied) when calling the GetObject operation: User: "
        f"{SESSION_B} is not authorized to perform: kms:Decrypt on the resource associated "
        "with this ciphertext because the resource does not exist in this Region, no "
        "resource-based policies allow access, or a resource-based policy explicitly denies "
        "access",
        SESSION_B,
        "kms:Decrypt",
        "(associated with this ciphertext)",
        "resource-based policy",
        False,
    ),
    # KMS direct
    "kms-direct": (
        "An error occurred (AccessDeniedException) when calling the GenerateDataKey operation: "
        f"User: {SESSION_B} is not authorized to perform: kms:GenerateDataKey on resource: "
        "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab because "
        "no resource-based policy allows the kms:GenerateDataKey action",
        SESSION_B,
        "kms:GenerateDataKey",
        "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "resource-based policy",
        False,
    ),
    # an SCP
    "scp": (
        f"User: {SESSION_A} is not authorized to perform: sts:AssumeRole on resource: {ROLE_B} "
        "with an explicit deny in a service control policy",
        SESSION_A,
        "sts:AssumeRole",
        ROLE_B,
        "service control policy",
        True,
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_message_shape_is_read(shape: str) -> None:
    text, principal, action, resource, blamed, explicit = SHAPES[shape]
    denial = parse_text(text)
    assert (denial.principal, denial.action, denial.resource) == (principal, action, resource)
    assert (denial.blamed, denial.explicit) == (blamed, explicit)


def test_explicit_deny_names_the_policy() -> None:
    denial = parse_text(SHAPES["iam-explicit-with-arn"][0])
    assert denial.policy_arn == "arn:aws:iam::123456789012:policy/ExampleDenyPolicy"


def test_cloudtrail_lookup_events_and_trail_records() -> None:
    denial = parse_event((DATA / "cloudtrail-lookup-events.json").read_text())
    assert (denial.principal, denial.action, denial.resource) == (
        SESSION_A,
        "sts:AssumeRole",
        ROLE_B,
    )
    assert relevant_rows(denial) is not None
    assert "3.trust" in (relevant_rows(denial) or ())
    denial = parse_event((DATA / "cloudtrail-trail-s3.json").read_text())
    assert denial.action == "s3:PutObject"
    assert denial.resource == "arn:aws:s3:::iss-reporting-20251110/iss_position.txt"
    assert denial.principal is not None
    assert denial.principal.startswith("arn:aws:sts::222222222222:assumed-role/access-s3-bucket/")


def test_local_audit_entries_skip_allowed_ones() -> None:
    allowed = {"decision": "allowed", "action": "sts:AssumeRole", "principal": "x", "resource": "y"}
    denied = {
        "decision": "implicitDeny",
        "decided_by": "resource_policy",
        "action": "sts:AssumeRole",
        "principal": SESSION_A,
        "resource": ROLE_B,
    }
    denial = parse_event(json.dumps(allowed) + "\n" + json.dumps(denied) + "\n")
    assert (denial.principal, denial.resource, denial.blamed) == (
        SESSION_A,
        ROLE_B,
        "resource-based policy",
    )


@pytest.mark.parametrize("text", ["", "hello", "Error: something else", '{"Records": []}'])
def test_unknown_text_is_a_usage_error(text: str) -> None:
    with pytest.raises(DoctorInputError):
        parse_text(text)


def test_cli_explain_without_a_source_prints_the_parse_and_the_rows() -> None:
    result = CliRunner().invoke(app, ["doctor", "explain", SHAPES["iam-implicit"][0]])
    assert result.exit_code == 0, result.output
    assert "identity-based policy" in result.stdout
    assert "2.assume" in result.stdout
    bad = CliRunner().invoke(app, ["doctor", "explain", "nothing to see"])
    assert bad.exit_code == 2


def test_cli_explain_of_an_action_outside_the_chain_says_no_row_judges_it() -> None:
    text = (
        "User: arn:aws:iam::111111111111:user/dev is not authorized to perform: "
        "codecommit:ListRepositories because no identity-based policy allows the "
        "codecommit:ListRepositories action"
    )
    result = CliRunner().invoke(app, ["doctor", "explain", text])
    assert result.exit_code == 0, result.output
    assert "no row of crosstrack's trust chain judges codecommit:ListRepositories" in result.stdout
    assert "rows that judge it: all" not in result.stdout
