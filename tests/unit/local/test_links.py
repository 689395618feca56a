"""The demo's trust-chain table, judged per link from audit-log entries."""

from __future__ import annotations

from typing import Any

import pytest

from crosstrack.local.run.links import LINKS, Deployment, LinkError, break_link, chain_rows

DEP = Deployment(
    function_name="write-report-to-crossaccount-s3",
    function_arn="arn:aws:lambda:us-east-1:111111111111:function:write-report-to-crossaccount-s3",
    role_a_arn="arn:aws:iam::111111111111:role/connect-to-bridge",
    role_b_arn="arn:aws:iam::222222222222:role/access-s3-bucket",
    schedule_role_arn="arn:aws:iam::111111111111:role/write-report-to-crossaccount-s3-scheduler",
    bucket="iss-reporting-x",
)
SESSION_A = "arn:aws:sts::111111111111:assumed-role/connect-to-bridge/write-report"


def allow(layer: str, sid: str) -> dict[str, Any]:
    return {
        "layer": layer,
        "effect": "Allow",
        "policy": f"policy {sid}",
        "statement": 0,
        "sid": sid,
    }


def entry(
    action: str, resource: str, decision: str, *matched: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "action": action,
        "resource": resource,
        "decision": decision,
        "matched": list(matched),
        "principal": extra.pop("principal", SESSION_A),
        **extra,
    }


INTACT = [
    entry("lambda:InvokeFunction", DEP.function_arn, "allowed", allow("identity", "Invoke")),
    entry(
        "sts:AssumeRole",
        DEP.role_a_arn,
        "allowed",
        allow("resource_policy", "Lambda"),
        principal="lambda.amazonaws.com",
    ),
    entry(
        "sts:AssumeRole",
        DEP.role_b_arn,
        "allowed",
        allow("identity", "AssumeB"),
        allow("resource_policy", "TrustA"),
    ),
    entry(
        "s3:PutObject",
        "arn:aws:s3:::iss-reporting-x/iss_position.txt",
        "allowed",
        allow("identity", "Append"),
    ),
    entry(
        "logs:PutLogEvents",
        "arn:aws:logs:us-east-1:111111111111:log-group:/aws/lambda/"
        "write-report-to-crossaccount-s3:*",
        "allowed",
        allow("identity", "Logs"),
    ),
]


def test_intact_chain_is_all_ticks_with_the_deciding_statements() -> None:
    rows = chain_rows(INTACT, DEP)
    assert [r.mark for r in rows] == ["✓"] * 7
    assert [r.statement for r in rows] == [
        "policy Invoke [Invoke]",
        "policy Logs [Logs]",
        "policy Lambda [Lambda]",
        "policy AssumeB [AssumeB]",
        "policy TrustA [TrustA]",
        "policy Append [Append]",
        "no Deny matched in the bucket policy",
    ]


def test_broken_trust_marks_only_that_link_and_what_was_never_reached() -> None:
    denied = entry(
        "sts:AssumeRole",
        DEP.role_b_arn,
        "implicitDeny",
        allow("identity", "AssumeB"),
        explanation="the trust policy of role B does not allow role A",
    )
    rows = chain_rows([*INTACT[:2], denied], DEP)
    marks = {r.link: r.mark for r in rows}
    assert marks["role A may call sts:AssumeRole on role B"] == "✓"
    assert marks["role B trusts role A"] == "✗"
    assert marks["role B may s3:PutObject on the log object"] == "·"
    assert marks["the function may write its logs"] == "·"
    (trust,) = [r for r in rows if r.link == "role B trusts role A"]
    assert trust.statement == "the trust policy of role B does not allow role A"


def test_bucket_policy_deny_is_named() -> None:
    denied = entry(
        "s3:PutObject",
        "arn:aws:s3:::iss-reporting-x/iss_position.txt",
        "explicitDeny",
        allow("identity", "Append"),
        {
            "layer": "resource_policy",
            "effect": "Deny",
            "policy": "bucket policy",
            "statement": 1,
            "sid": "No",
        },
    )
    rows = chain_rows([denied], DEP)
    assert (rows[5].mark, rows[6].mark) == ("✓", "✗")
    assert rows[6].statement == "denied by bucket policy [No]"


def test_the_newest_entry_for_a_link_wins() -> None:
    earlier_denial = entry("lambda:InvokeFunction", DEP.function_arn, "implicitDeny")
    rows = chain_rows([earlier_denial, *INTACT], DEP)
    assert rows[0].mark == "✓"


def test_unknown_link_is_refused_with_the_choices() -> None:
    with pytest.raises(LinkError, match="choose one of schedule-invoke, logs"):
        break_link("dns", DEP)
    assert len(LINKS) == 8
