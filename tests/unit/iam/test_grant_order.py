"""Several Allow statements in one resource policy: the most permissive grant decides.

Regression for a case the property tests found: a same-account session, no identity
policy, and a bucket policy allowing both the account (which only delegates to identity
policies) and "*" (which allows on its own). Adding the account statement must not turn
the "*" statement's allow into a deny.
"""

from __future__ import annotations

from typing import Any

from crosstrack.iam import simulate

SESSION = "arn:aws:sts::111122223333:assumed-role/reader/s1"


def bucket_policy(*principals: Any) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": principal,
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::logs/*",
            }
            for principal in principals
        ],
    }


def decide(policy: dict[str, Any]) -> str:
    case = {
        "request": {
            "principal": SESSION,
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::logs/a.txt",
            "resource_account": "111122223333",
        },
        "identity_policies": [],
        "resource_policy": policy,
    }
    return str(simulate(case)["decision"])


def test_anyone_grant_allows_alone() -> None:
    assert decide(bucket_policy("*")) == "allowed"


def test_account_grant_alone_delegates_to_missing_identity_policy() -> None:
    assert decide(bucket_policy({"AWS": "111122223333"})) == "implicitDeny"


def test_adding_an_account_grant_keeps_the_anyone_allow() -> None:
    assert decide(bucket_policy({"AWS": "111122223333"}, "*")) == "allowed"
    assert decide(bucket_policy("*", {"AWS": "111122223333"})) == "allowed"
