"""Allowed but unsafe: the warnings (verdict ``warn``; they never fail a run).

* a trust policy open to ``*`` or to a whole account (root or bare id) with no condition;
* wildcard actions in the roles' own policies;
* role B may delete the log, or may write anywhere in the bucket, not just the log;
* the deploy role in B can create or change roles other than its own deployment's (it could
  grant itself anything through them: privilege escalation).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from crosstrack.doctor import requests as rq
from crosstrack.doctor.checks import ADDR
from crosstrack.doctor.evaluation import IDENTITY_SIDE, Asked
from crosstrack.doctor.model import RoleState, Row, State, StatementRef, Verdict
from crosstrack.doctor.rows import side_row


def _statements(document: Mapping[str, Any] | None) -> Iterator[tuple[int, Mapping[str, Any]]]:
    if not document:
        return
    raw = document.get("Statement", [])
    for i, st in enumerate([raw] if isinstance(raw, dict) else raw):
        if isinstance(st, Mapping):
            yield i, st


def _list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _open_principals(principal: object) -> list[str]:
    if principal == "*":
        return ["*"]
    if not isinstance(principal, Mapping):
        return []
    found = []
    for value in _list(principal.get("AWS")):
        if value == "*" or value.endswith(":root") or value.isdigit():
            found.append(value)
    return found


def trust_warnings(state: State) -> list[Row]:
    rows: list[Row] = []
    roles: list[tuple[int, RoleState]] = [(1, state.role_a), (3, state.role_b)]
    if state.schedule_role is not None:
        roles.append((0, state.schedule_role))
    for link, role in roles:
        for i, st in _statements(role.trust):
            if st.get("Effect") != "Allow" or st.get("Condition"):
                continue
            opened = _open_principals(st.get("Principal"))
            if opened:
                rows.append(
                    Row(
                        f"{link}.open-trust", link, Verdict.WARN, ", ".join(opened),
                        "sts:AssumeRole", role.arn,
                        StatementRef(f"trust policy of {role.name}", i, st.get("Sid")),
                        f"{role.name} trusts {', '.join(opened)} with no condition: every "
                        "identity the account's own policies allow may assume it",
                        f"{role.address} (name the one role that needs it, or add "
                        "conditions such as sts:ExternalId / aws:PrincipalOrgID)",
                    )
                )  # fmt: skip
    return rows


def wildcard_warnings(state: State) -> list[Row]:
    rows: list[Row] = []
    roles = [(2, state.role_a), (4, state.role_b)]
    if state.schedule_role is not None:
        roles.append((0, state.schedule_role))
    for link, role in roles:
        for policy in role.identity_policies:
            for i, st in _statements(policy.document):
                wild = [a for a in _list(st.get("Action")) if "*" in a]
                if st.get("Effect") == "Allow" and (wild or "NotAction" in st):
                    rows.append(
                        Row(
                            f"{link}.wildcard", link, Verdict.WARN, role.arn,
                            ", ".join(wild) or "NotAction", "*",
                            StatementRef(policy.name, i, st.get("Sid")),
                            f"{policy.name} allows wildcard actions {wild or ['NotAction']}: "
                            "more than the reporter needs",
                            f"{policy.address or role.address} (list the actions it needs)",
                        )
                    )  # fmt: skip
    return rows


def scope_warnings(state: State) -> list[Row]:
    """Role B deleting the log, or writing other keys of the bucket."""
    b = state.role_b
    if "policies" in b.unreadable:
        return []
    rows: list[Row] = []
    bucket = state.function.environment.get("BUCKET_NAME") or state.bucket.name
    for id_, action, resource, what in (
        ("4.delete", "s3:DeleteObject", rq.object_arn(state), "may delete the log"),
        (
            "4.scope", "s3:PutObject", f"arn:aws:s3:::{bucket}/crosstrack-doctor/any-other-key",
            "may write any key of the bucket, not just the log",
        ),
    ):  # fmt: skip
        asked = Asked(
            rq.role_b_session(state), action, resource, rq.s3_context(state), principal_arn=b.arn,
            resource_account=state.account_b, identity=b.identity_policies, boundary=b.boundary,
        )  # fmt: skip
        row = side_row(id_, 4, asked, IDENTITY_SIDE, f"the policies of {b.name}", "")
        if row.verdict is Verdict.PASS and row.statement is not None:
            rows.append(
                Row(
                    id_, 4, Verdict.WARN, row.principal, action, resource, row.statement,
                    f"{b.name} {what} ({row.evidence})",
                    f"{ADDR['role_b_policy']} (grant s3:GetObject/s3:PutObject on the log "
                    "object(s) only)",
                )
            )  # fmt: skip
    return rows


_ESCALATION_ACTIONS = ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy")


def deploy_role_warnings(state: State) -> list[Row]:
    role = state.deploy_role
    if role is None:
        return []
    if role.unreadable.get("policies", "").startswith("does not exist"):
        return []  # no deploy role by that name: nothing to warn about
    if "policies" in role.unreadable:
        return [
            Row(
                "deploy.escalation", None, Verdict.UNKNOWN, role.arn, "iam:PutRolePolicy",
                f"arn:aws:iam::{role.account}:role/*", None,
                f"could not read the deploy role's policies: {role.unreadable['policies']}",
                "grant the doctor iam:ListRolePolicies/GetRolePolicy on the deploy role",
            )
        ]  # fmt: skip
    other = f"arn:aws:iam::{role.account}:role/crosstrack-doctor-some-other-role"
    session = f"arn:aws:sts::{role.account}:assumed-role/{role.name}/deploy"
    for action in _ESCALATION_ACTIONS:
        asked = Asked(
            session, action, other, {"aws:SecureTransport": "true"}, principal_arn=role.arn,
            identity=role.identity_policies, boundary=role.boundary,
        )  # fmt: skip
        row = side_row(
            "deploy.escalation", -1, asked, IDENTITY_SIDE, f"the policies of {role.name}", ""
        )
        if row.verdict is Verdict.PASS and row.statement is not None:
            return [
                Row(
                    "deploy.escalation", None, Verdict.WARN, role.arn, action, other,
                    row.statement,
                    f"the deploy role {role.name} may {action} on roles other than the "
                    f"deployment's ({row.evidence}): whoever can assume it can grant itself "
                    "any permission through a role it creates",
                    "infra/bootstrap/terraform-role-permissions.json (limit iam:* role "
                    f"actions to arn:aws:iam::{role.account}:role/<role B's name>)",
                )
            ]  # fmt: skip
    return [
        Row(
            "deploy.escalation", None, Verdict.PASS, role.arn, ", ".join(_ESCALATION_ACTIONS),
            other, None, "the deploy role cannot create or change other roles", "",
        )
    ]  # fmt: skip
