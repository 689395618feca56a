"""simulate's case cache is exact: a policy changed in place, or equal by ``==`` but of another
type, is never answered from what an earlier call compiled."""

from __future__ import annotations

import copy
from typing import Any

from crosstrack.iam import simulate

V = "2012-10-17"


def _case() -> dict[str, Any]:
    return {
        "request": {
            "principal": "arn:aws:iam::111111111111:user/u",
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::b/k",
            "resource_account": "111111111111",
            "context": {"s3:max-keys": "1"},
        },
        "identity_policies": [
            {"Version": V, "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ],
    }


def test_a_document_changed_in_place_is_compiled_again() -> None:
    case = _case()
    assert simulate(case)["decision"] == "allowed"
    case["identity_policies"][0]["Statement"][0]["Effect"] = "Deny"
    assert simulate(case)["decision"] == "explicitDeny"
    case["identity_policies"][0]["Statement"][0]["Action"] = ["s3:PutObject"]
    assert simulate(case)["decision"] == "implicitDeny"


def test_values_equal_by_eq_but_of_another_type_are_told_apart() -> None:
    # 1 == 1.0 == True in Python, but a policy reads them as "1", "1.0" and "true".
    decisions = []
    for value in (1, 1.0, True):
        case = _case()
        statement = case["identity_policies"][0]["Statement"][0]
        statement["Condition"] = {"StringEquals": {"s3:max-keys": value}}
        decisions.append(simulate(case)["decision"])
    assert decisions == ["allowed", "implicitDeny", "implicitDeny"]


def test_the_result_is_a_fresh_dict_each_time() -> None:
    case = _case()
    first = simulate(case)
    first["matched"][0]["effect"] = "Deny"
    first["matched"].clear()
    second = simulate(copy.deepcopy(case))
    assert second["matched"] == [
        {
            "layer": "identity",
            "policy": "identity_policies[0]",
            "statement": 0,
            "sid": None,
            "effect": "Allow",
        }
    ]
