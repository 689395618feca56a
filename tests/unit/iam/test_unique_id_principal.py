"""A principal stored as a bare unique ID (what AWS leaves in a trust or resource policy once
the role or user it named is deleted) is accepted and matches no caller.

IAM User Guide, reference_policies_elements_principal.html (IAM role principals): AWS saves a
role or user ARN in a Principal element as the principal's unique ID; after that principal is
deleted the ID shows instead of the ARN, and a principal recreated with the same ARN does not
match it.
"""

from __future__ import annotations

from typing import Any

import pytest

from crosstrack.iam import PolicyError, PolicyKind, parse_policy, simulate

V = "2012-10-17"
DELETED_ROLE = "AROAXXXXXXXXXXXXXXXXX"  # 21 characters: AROA + 17
DELETED_USER = "AIDAJQABLZS4A3QDU576Q"
SESSION = "arn:aws:sts::111122223333:assumed-role/connect-to-bridge/s1"
ROLE_B = "arn:aws:iam::222222222222:role/access-s3-bucket"


def _assume(*trust: dict[str, Any]) -> dict[str, Any]:
    """Role A's session assumes role B (cross-account), which role A's policy allows."""
    allow_b = {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE_B}
    return {
        "request": {"principal": SESSION, "action": "sts:AssumeRole", "resource": ROLE_B},
        "identity_policies": [{"Version": V, "Statement": [allow_b]}],
        "resource_policy": {"Version": V, "Statement": list(trust)},
    }


def _trust(effect: str, principal: Any, element: str = "Principal") -> dict[str, Any]:
    return {"Effect": effect, "Action": "sts:AssumeRole", element: principal}


@pytest.mark.parametrize("unique_id", [DELETED_ROLE, DELETED_USER])
def test_a_trust_policy_naming_a_deleted_principal_parses(unique_id: str) -> None:
    document = {
        "Version": V,
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": unique_id}}
        ],
    }
    assert parse_policy(document, PolicyKind.TRUST).statements[0].principals is not None


def test_a_unique_id_matches_no_caller() -> None:
    result = simulate(_assume(_trust("Allow", {"AWS": DELETED_ROLE})))
    assert result["decision"] == "implicitDeny"
    assert result["missing_allow"] == ["resource_policy"]
    assert result["matched"] == [
        {
            "layer": "identity",
            "policy": "identity_policies[0]",
            "statement": 0,
            "sid": None,
            "effect": "Allow",
        }
    ]


def test_the_other_principals_of_the_element_still_count() -> None:
    assert (
        simulate(_assume(_trust("Allow", {"AWS": [DELETED_ROLE, "111122223333"]})))["decision"]
        == "allowed"
    )


def test_not_principal_with_a_unique_id_exempts_nobody() -> None:
    # The deleted role's ID is not the caller: a Deny with NotPrincipal applies to it.
    # (NotPrincipal is valid only in a resource-based policy other than a trust policy, with
    # Deny: reference_policies_elements_notprincipal.html.)
    allow_get = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    deny_others = {
        "Effect": "Deny",
        "NotPrincipal": {"AWS": DELETED_ROLE},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*",
    }
    case = {
        "request": {
            "principal": SESSION,
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::b/k",
            "resource_account": "111122223333",
        },
        "identity_policies": [{"Version": V, "Statement": [allow_get]}],
        "resource_policy": {"Version": V, "Statement": [deny_others]},
    }
    assert simulate(case)["decision"] == "explicitDeny"


@pytest.mark.parametrize(
    "value",
    ["AROA", "aroaxxxxxxxxxxxxxxxxx", "AROAXXXXXXXXXXXXXXXX!", "AKIAXXXXXXXXXXXXXXXXX"],
)
def test_what_is_not_a_role_or_user_id_is_still_refused(value: str) -> None:
    document = {
        "Version": V,
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": value}}],
    }
    with pytest.raises(PolicyError, match="is not a principal ARN"):
        parse_policy(document, PolicyKind.TRUST)
