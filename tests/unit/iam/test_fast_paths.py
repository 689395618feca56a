"""What the engine's cheap constructions must keep: a Decision made by ``evaluate`` is a
complete Decision, ``simulate`` is ``decide(...).as_dict()``, and the layers lacking an Allow
come in AWS's order however many there are."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from crosstrack.iam import Decision, decide, simulate

V = "2012-10-17"
SESSION = "arn:aws:sts::111122223333:assumed-role/app/s1"


def _policy(effect: str, action: str = "s3:GetObject", **extra: Any) -> dict[str, Any]:
    return {"Version": V, "Statement": [{"Effect": effect, "Action": action, **extra}]}


def _nothing_allows() -> dict[str, Any]:
    """A cross-account case in which no layer allows: SCPs, RCPs, the bucket policy, the
    identity policies, the boundary and the session policy all lack an Allow."""
    other = _policy("Allow", "s3:PutObject", Resource="*")
    return {
        "request": {
            "principal": SESSION,
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::b/k",
            "resource_account": "444455556666",
        },
        "identity_policies": [other],
        "permission_boundary": other,
        "session_policy": other,
        "resource_policy": _policy("Allow", "s3:PutObject", Resource="*", Principal="*"),
        "scps": [[other]],
        "rcps": [[_policy("Allow", "s3:PutObject", Resource="*", Principal="*")]],
    }


def test_every_layer_lacking_an_allow_is_named_in_aws_order() -> None:
    result = simulate(_nothing_allows())
    assert result["decision"] == "implicitDeny"
    assert result["decided_by"] == "scp"
    assert result["missing_allow"] == [
        "scp",
        "rcp",
        "resource_policy",
        "identity",
        "permission_boundary",
        "session_policy",
    ]


def test_a_decision_from_evaluate_has_every_field_and_equals_one_built_by_keywords() -> None:
    for trace in (False, True):
        decision = decide(_nothing_allows(), trace=trace)
        names = [f.name for f in fields(Decision)]
        assert sorted(vars(decision)) == sorted(names)
        rebuilt = Decision(**{name: getattr(decision, name) for name in names})
        assert rebuilt == decision
        assert rebuilt.explanation == decision.explanation
        assert rebuilt.as_dict() == decision.as_dict()


def test_simulate_is_the_dict_form_of_decide() -> None:
    case = _nothing_allows()
    case["identity_policies"].append(_policy("Deny", Resource="*"))
    expected = decide(case).as_dict()
    assert expected["decision"] == "explicitDeny"
    assert simulate(case) == expected
