"""Properties of the decision that must hold for any policies (hypothesis).

Including: the hot path and the traced path (``evaluate(..., trace=True)``) agree on random
cases with policy variables (with and without values), NotResource and NotPrincipal.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from crosstrack.iam import Outcome, decide, simulate
from crosstrack.iam.wildcards import compile_arn, compile_glob

SESSION = "arn:aws:sts::111122223333:assumed-role/app/s1"
ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:*",
    "s3:Get*",
    "*",
    "sqs:SendMessage",
    "S3:getobject",
]
RESOURCES = [
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::other/*",
    "arn:aws:s3:::b/K",
]
PRINCIPALS: list[Any] = [
    "*",
    {"AWS": "111122223333"},
    {"AWS": "arn:aws:iam::111122223333:role/app"},
    {"AWS": SESSION},
    {"AWS": "444455556666"},
]
CONDITIONS: list[dict[str, Any] | None] = [
    None,
    {"Bool": {"aws:SecureTransport": "true"}},
    {"StringEquals": {"aws:PrincipalAccount": "111122223333"}},
    {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app"}},
]
FAST = settings(max_examples=60, deadline=None)


@st.composite
def statements(draw: st.DrawFn, *, resource_policy: bool) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
        "Action": draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3)),
        "Resource": draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2)),
    }
    condition = draw(st.sampled_from(CONDITIONS))
    if condition:
        statement["Condition"] = condition
    if resource_policy:
        statement["Principal"] = draw(st.sampled_from(PRINCIPALS))
    return statement


def policies(*, resource_policy: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    return st.lists(statements(resource_policy=resource_policy), min_size=1, max_size=5).map(
        lambda s: {"Version": "2012-10-17", "Statement": s}
    )


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    case: dict[str, Any] = {
        "request": {
            "principal": SESSION,
            "action": draw(st.sampled_from(["s3:GetObject", "s3:PutObject"])),
            "resource": "arn:aws:s3:::b/k",
            "resource_account": draw(st.sampled_from(["111122223333", "444455556666"])),
            "context": {"aws:SecureTransport": draw(st.sampled_from(["true", "false"]))},
        },
        "identity_policies": draw(st.lists(policies(), max_size=3)),
    }
    if draw(st.booleans()):
        case["resource_policy"] = draw(policies(resource_policy=True))
    if draw(st.booleans()):
        case["permission_boundary"] = draw(policies())
    if draw(st.booleans()):
        case["session_policy"] = draw(policies())
    if draw(st.booleans()):
        case["scps"] = [[draw(policies())]]
    return case


def _layers(case: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(case["identity_policies"])
    for key in ("resource_policy", "permission_boundary", "session_policy"):
        if key in case:
            found.append(case[key])
    found.extend(p for level in case.get("scps", []) for p in level)
    return found


@FAST
@given(cases(), st.data())
def test_a_matching_explicit_deny_always_wins(case: dict[str, Any], data: st.DataObject) -> None:
    target = data.draw(st.sampled_from(_layers(case) or [None]))
    deny: dict[str, Any] = {"Effect": "Deny", "Action": "*", "Resource": "*"}
    if target is None:
        case["identity_policies"] = [{"Version": "2012-10-17", "Statement": [deny]}]
    else:
        if target is case.get("resource_policy"):
            deny["Principal"] = "*"
        target["Statement"].append(deny)
    assert simulate(case)["decision"] == "explicitDeny"


@FAST
@given(cases(), st.data())
def test_removing_an_allow_never_turns_a_deny_into_an_allow(
    case: dict[str, Any], data: st.DataObject
) -> None:
    before = simulate(case)["decision"]
    candidates = [
        (policy, i)
        for policy in _layers(case)
        for i, s in enumerate(policy["Statement"])
        if s["Effect"] == "Allow" and len(policy["Statement"]) > 1
    ]
    if not candidates:
        return
    policy, index = data.draw(st.sampled_from(candidates))
    del policy["Statement"][index]
    after = simulate(case)["decision"]
    if before != "allowed":
        assert after != "allowed"


@FAST
@given(cases(), st.data())
def test_action_case_never_matters(case: dict[str, Any], data: st.DataObject) -> None:
    before = simulate(case)
    action = case["request"]["action"]
    flipped = "".join(c.swapcase() if data.draw(st.booleans(), label="flip") else c for c in action)
    other = copy.deepcopy(case)
    other["request"]["action"] = flipped
    after = simulate(other)
    assert after["decision"] == before["decision"]
    assert after["matched"] == before["matched"]


@FAST
@given(st.text(alphabet="abcXYZ019-_./", min_size=1, max_size=20))
def test_resource_case_always_matters(key: str) -> None:
    if key.swapcase() == key:
        return  # no letters to change
    resource = f"arn:aws:s3:::bucket/{key}"
    case = {
        "request": {
            "principal": SESSION,
            "action": "s3:GetObject",
            "resource": resource,
            "resource_account": "111122223333",
        },
        "identity_policies": [
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}],
            }
        ],
    }
    assert simulate(case)["decision"] == "allowed"
    case["request"]["resource"] = f"arn:aws:s3:::bucket/{key.swapcase()}"
    assert simulate(case)["decision"] == "implicitDeny"


def _escape(text: str) -> str:
    """Make ``text`` literal in a 2012-10-17 policy: ${*}, ${?}, ${$} for the specials."""
    return "".join({"*": "${*}", "?": "${?}", "$": "${$}"}.get(c, c) for c in text)


@FAST
@given(st.text(min_size=1, max_size=30).filter(lambda t: "\x00" not in t and "\x01" not in t))
def test_wildcard_patterns_match_themselves_literally(text: str) -> None:
    # A pattern built from any string matches that string...
    assert compile_glob(text)(text)
    assert compile_glob(text, ignore_case=True)(text.upper())
    assert compile_arn("arn:aws:s3:::b/" + text)("arn:aws:s3:::b/" + text)
    # ...and, with the escapes, only that string, whatever regex metacharacters it holds.
    case = {
        "request": {
            "principal": SESSION,
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::b/" + text,
            "resource_account": "111122223333",
            "context": {"s3:prefix": text},
        },
        "identity_policies": [
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::b/" + _escape(text),
                        "Condition": {"StringLike": {"s3:prefix": _escape(text)}},
                    }
                ],
            }
        ],
    }
    assert simulate(case)["decision"] == "allowed"
    case["request"]["context"] = {"s3:prefix": text + "x"}
    assert simulate(case)["decision"] == "implicitDeny"


# ------------------------------------------- the hot path and the traced path always agree

VAR_RESOURCES = [
    *RESOURCES,
    "arn:aws:s3:::b/${aws:PrincipalTag/team}/*",
    "arn:aws:s3:::b/${aws:PrincipalTag/team, 'red'}/*",
    "arn:aws:s3:::${aws:username}/*",
]
VAR_CONDITIONS: list[dict[str, Any] | None] = [
    *CONDITIONS,
    {"StringEquals": {"s3:prefix": ["${aws:PrincipalTag/team}", "red"]}},
    {"StringNotEquals": {"s3:prefix": "${aws:PrincipalTag/team}"}},
    {"StringNotLike": {"s3:prefix": ["${aws:PrincipalTag/team}/*", "blue*"]}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/${aws:PrincipalTag/team}"}},
    {"ForAllValues:StringNotEquals": {"aws:TagKeys": "${aws:PrincipalTag/team}"}},
]
EXEMPT_BOTH = {
    "AWS": [
        SESSION,
        "arn:aws:iam::111122223333:role/app",
        "111122223333",
        "arn:aws:iam::111122223333:user/b",
    ]
}
NOT_PRINCIPALS: list[Any] = [
    EXEMPT_BOTH,
    {"AWS": [SESSION, "arn:aws:iam::111122223333:role/app", "111122223333"]},
    {"AWS": ["arn:aws:iam::111122223333:role/app", SESSION]},
    {"AWS": "444455556666"},
    {"AWS": "*"},
]


@st.composite
def rich_statements(draw: st.DrawFn, *, resource_policy: bool) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
        "Action": draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3)),
        draw(st.sampled_from(["Resource", "Resource", "NotResource"])): draw(
            st.lists(st.sampled_from(VAR_RESOURCES), min_size=1, max_size=3)
        ),
    }
    condition = draw(st.sampled_from(VAR_CONDITIONS))
    if condition:
        statement["Condition"] = condition
    if resource_policy:
        if statement["Effect"] == "Deny" and draw(st.booleans()):
            statement["NotPrincipal"] = draw(st.sampled_from(NOT_PRINCIPALS))
        else:
            statement["Principal"] = draw(st.sampled_from(PRINCIPALS))
    return statement


def rich_policies(*, resource_policy: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    return st.lists(rich_statements(resource_policy=resource_policy), min_size=1, max_size=4).map(
        lambda s: {"Version": "2012-10-17", "Statement": s}
    )


@st.composite
def rich_cases(draw: st.DrawFn) -> dict[str, Any]:
    context: dict[str, Any] = {
        "aws:SecureTransport": draw(st.sampled_from(["true", "false"])),
        "s3:prefix": draw(st.sampled_from(["red", "blue", "red/x", "${aws:PrincipalTag/team}"])),
        "aws:TagKeys": draw(st.lists(st.sampled_from(["red", "team"]), max_size=2)),
    }
    if draw(st.booleans()):
        context["aws:PrincipalTag/team"] = draw(st.sampled_from(["red", "app", "k"]))
    case: dict[str, Any] = {
        "request": {
            "principal": draw(st.sampled_from([SESSION, "arn:aws:iam::111122223333:user/b"])),
            "action": draw(st.sampled_from(["s3:GetObject", "s3:PutObject"])),
            "resource": draw(
                st.sampled_from(["arn:aws:s3:::b/k", "arn:aws:s3:::b/red/k", "arn:aws:s3:::b/K"])
            ),
            "resource_account": draw(st.sampled_from(["111122223333", "444455556666"])),
            "context": context,
        },
        "identity_policies": draw(st.lists(rich_policies(), max_size=3)),
    }
    for key in ("resource_policy", "permission_boundary", "session_policy"):
        if draw(st.booleans()):
            case[key] = draw(rich_policies(resource_policy=key == "resource_policy"))
    if "resource_policy" in case and draw(st.booleans()):
        # a Deny exempting the caller by NotPrincipal: decided by whether a boundary is attached
        deny = draw(rich_statements(resource_policy=False))
        deny.update(Effect="Deny", NotPrincipal=EXEMPT_BOTH)
        case["resource_policy"]["Statement"].append(deny)
    if draw(st.booleans()):
        case["scps"] = [[draw(rich_policies())]]
    return case


@settings(max_examples=300, deadline=None)
@given(rich_cases())
def test_the_traced_path_decides_as_the_hot_path(case: dict[str, Any]) -> None:
    fast = decide(case)
    traced = decide(case, trace=True)
    assert traced.decision is fast.decision
    assert traced.decided_by is fast.decided_by
    assert traced.matched == fast.matched
    assert traced.missing_allow == fast.missing_allow
    assert traced.notes == fast.notes
    assert traced.as_dict() == fast.as_dict()
    # every statement is traced, and exactly the matched ones say so
    applied = [t for t in traced.trace if t.outcome is Outcome.APPLIES]
    assert [(t.layer, t.policy, t.statement) for t in applied] == [
        (m.layer, m.policy, m.statement) for m in fast.matched
    ]
