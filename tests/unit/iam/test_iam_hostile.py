"""Hostile JSON: every shape ends in a short PolicyError (or a decision), never a crash.

The engine reads cases and policies a user (or, through the local AWS, any signed caller) wrote;
deep nesting, megabyte strings and huge lists must not raise RecursionError/TypeError/KeyError
nor produce a megabyte error message.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from crosstrack.iam import PolicyError, parse_policy, simulate

V = "2012-10-17"
CASE: dict[str, Any] = {
    "request": {
        "principal": "arn:aws:iam::111111111111:user/u",
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::b/k",
        "resource_account": "111111111111",
        "context": {},
    },
    "identity_policies": [
        {"Version": V, "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    ],
}


def _nested_list(depth: int) -> Any:
    value: Any = "a"
    for _ in range(depth):
        value = [value]
    return value


def _nested_dict(depth: int) -> Any:
    value: Any = "a"
    for _ in range(depth):
        value = {"a": value}
    return value


def _with(where: str, value: Any) -> dict[str, Any]:
    case = copy.deepcopy(CASE)
    doc = case["identity_policies"][0]
    statement = doc["Statement"][0]
    if where == "context":
        case["request"]["context"] = {"k": value}
    elif where in ("Version", "Id", "Statement"):
        doc[where] = value
    elif where == "Principal":
        case["resource_policy"] = {
            "Version": V,
            "Statement": [{"Effect": "Deny", "Principal": value, "Action": "*", "Resource": "*"}],
        }
    elif where == "ConditionValue":
        statement["Condition"] = {"StringEquals": {"aws:username": value}}
    else:
        statement[where] = value
    return case


WHERE = [
    "Version",
    "Id",
    "Statement",
    "Effect",
    "Action",
    "Resource",
    "Condition",
    "ConditionValue",
    "Principal",
    "context",
]


@pytest.mark.parametrize("depth", [1_500, 3_000, 100_000])
@pytest.mark.parametrize("nest", [_nested_list, _nested_dict], ids=["list", "dict"])
@pytest.mark.parametrize("where", WHERE)
def test_deep_nesting_is_a_policy_error(where: str, nest: Any, depth: int) -> None:
    with pytest.raises(PolicyError) as info:
        simulate(_with(where, nest(depth)))
    assert len(str(info.value)) < 400


def test_deeply_nested_json_text_is_a_policy_error() -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy("[" * 100_000 + "]" * 100_000)
    assert info.value.path == "$"


@pytest.mark.parametrize("where", ["Effect", "Action", "Resource", "Version", "Principal"])
def test_a_megabyte_string_gives_a_short_message(where: str) -> None:
    with pytest.raises(PolicyError) as info:
        simulate(_with(where, "x" * 1_000_000))
    assert len(str(info.value)) < 400


def test_a_huge_action_list_is_decided() -> None:
    case = _with("Action", ["s3:PutObject"] * 100_000 + ["s3:GetObject"])
    assert simulate(case)["decision"] == "allowed"


@pytest.mark.parametrize(
    "value", [None, True, 0, 1.5, [], {}, [None], [[]], {"a": None}, "", "${", "\ud800"]
)
@pytest.mark.parametrize("where", WHERE)
def test_odd_values_never_crash(where: str, value: Any) -> None:
    message = ""
    try:
        result = simulate(_with(where, value))
    except PolicyError as exc:
        message = str(exc)
    else:
        assert result["decision"] in ("allowed", "explicitDeny", "implicitDeny")
    assert len(message) < 400
