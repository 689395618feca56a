"""The tag and boundary condition keys of an IAM role action come from one look-up of the
role (tag_context.tag_context), with the same keys as before."""

from __future__ import annotations

import pytest

from crosstrack.local.auth import policies
from crosstrack.local.auth.tag_context import tag_context
from crosstrack.local.moto.state import Entity

ROLE_ARN = "arn:aws:iam::222222222222:role/access-s3-bucket"
BOUNDARY = "arn:aws:iam::222222222222:policy/crosstrack-target-role-boundary"
ROLE = Entity(
    kind="role",
    name="access-s3-bucket",
    arn=ROLE_ARN,
    inline=(),
    attached=(),
    boundary_arn=BOUNDARY,
    tags=(("team", "iss"),),
)


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []

    def role_by_arn(arn: str) -> Entity | None:
        seen.append(arn)
        return ROLE if arn == ROLE_ARN else None

    monkeypatch.setattr(policies, "role_by_arn", role_by_arn)
    return seen


def test_a_role_action_looks_the_role_up_once(lookups: list[str]) -> None:
    assert tag_context("iam:PutRolePolicy", ROLE_ARN, b"") == {
        "aws:ResourceTag/team": "iss",
        "iam:ResourceTag/team": "iss",
        "iam:PermissionsBoundary": BOUNDARY,
    }
    assert lookups == [ROLE_ARN]


def test_a_missing_role_is_looked_up_once_and_gives_no_keys(lookups: list[str]) -> None:
    missing = "arn:aws:iam::222222222222:role/missing"
    assert tag_context("iam:DeleteRole", missing, b"") == {}
    assert lookups == [missing]


def test_a_request_that_sets_the_boundary_does_not_need_the_role(lookups: list[str]) -> None:
    body = f"Action=PutRolePermissionsBoundary&RoleName=r&PermissionsBoundary={BOUNDARY}"
    context = tag_context("iam:PutRolePermissionsBoundary", ROLE_ARN, body.encode())
    assert context["iam:PermissionsBoundary"] == BOUNDARY
    assert context["aws:ResourceTag/team"] == "iss"
    assert lookups == [ROLE_ARN]


def test_other_services_never_look_a_role_up(lookups: list[str]) -> None:
    assert tag_context("s3:PutObject", ROLE_ARN, b"") == {}
    assert lookups == []
