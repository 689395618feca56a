"""The rows of links 0-5 (design.md's trust chain), each from one engine decision.

Every check names the request it asks (principal, action, resource), the statement that
decided it -- or, when nothing allowed it, the statement that came closest and why it did not
apply -- and the Terraform resource to change. A check whose input could not be read is
``unknown`` and names what was missing; it never guesses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Final

from crosstrack.doctor import requests as rq
from crosstrack.doctor.evaluation import (
    IDENTITY_SIDE,
    RESOURCE_SIDE,
    Asked,
    SideResult,
    ask,
    side,
)
from crosstrack.doctor.model import NamedPolicy, RoleState, Row, State, Verdict
from crosstrack.doctor.rows import (
    Unreadable,
    combine,
    identity_needs,
    missing,
    org_unknown,
    side_row,
    trust_policy,
    unknown_row,
)
from crosstrack.iam import PolicyError, PolicyKind

# Terraform addresses of infra/ (infra/modules/*/main.tf).
ADDR: Final = {
    "role_a": "module.source.aws_iam_role.execution",
    "role_a_policy": "module.source.aws_iam_role_policy.execution",
    "function": "module.source.aws_lambda_function.this",
    "schedule": "module.source.aws_scheduler_schedule.this",
    "schedule_role": "module.source.aws_iam_role.scheduler",
    "schedule_policy": "module.source.aws_iam_role_policy.scheduler",
    "role_b": "module.target.aws_iam_role.this",
    "role_b_policy": "module.target.aws_iam_role_policy.access",
    "bucket_policy": "module.target.aws_s3_bucket_policy.log",
    "encryption": "module.target.aws_s3_bucket_server_side_encryption_configuration.log",
    "key": "module.target.aws_kms_key.log[0]",
}


# ----------------------------------------------------------------------------- link 0
def schedule_rows(state: State) -> list[Row]:
    schedule, role, fn = state.schedule, state.schedule_role, state.function
    if schedule is None or role is None:
        return [
            Row(
                "0.schedule", 0, Verdict.FAIL, "scheduler.amazonaws.com", "lambda:InvokeFunction",
                fn.arn, None, "no schedule targeting the function was found",
                f"{ADDR['schedule']} (target.arn = the function, target.role_arn = its role)",
            )
        ]  # fmt: skip
    rows: list[Row] = []
    if "schedule" in schedule.unreadable:
        return [
            unknown_row("0.schedule", 0, "scheduler.amazonaws.com", "scheduler:GetSchedule",
                     schedule.arn, schedule.unreadable["schedule"])
        ]  # fmt: skip
    if schedule.target_arn not in (fn.arn, None) and not str(schedule.target_arn).startswith(
        fn.arn + ":"
    ):
        rows.append(
            Row(
                "0.schedule", 0, Verdict.FAIL, schedule.arn, "lambda:InvokeFunction",
                str(schedule.target_arn), None,
                f"the schedule targets {schedule.target_arn}, not the function {fn.arn}",
                f"{ADDR['schedule']} (target.arn)",
            )
        )  # fmt: skip
    rows.append(
        side_row(
            "0.schedule-trust",
            0,
            Asked(
                "scheduler.amazonaws.com", "sts:AssumeRole", role.arn,
                rq.scheduler_trust_context(state), resource_policy=trust_policy(role),
                resource_kind=PolicyKind.TRUST,
            ),
            RESOURCE_SIDE,
            f"the trust policy of {role.name}",
            f"{ADDR['schedule_role']} (assume_role_policy: scheduler.amazonaws.com with "
            "aws:SourceArn = the schedule)",
            needs=((role.unreadable, "trust"),),
        )
    )  # fmt: skip
    session = rq.scheduler_session(state)
    assert session is not None
    invoke = Asked(
        session,
        "lambda:InvokeFunction",
        fn.arn,
        {"aws:SecureTransport": "true"},
        principal_arn=role.arn,
        identity=role.identity_policies,
        boundary=role.boundary,
        resource_policy=None
        if fn.resource_policy is None
        else NamedPolicy(f"resource policy of {fn.name}", fn.resource_policy),
    )
    rows.append(_decided_row("0.invoke", 0, invoke, role, needs=(
        *identity_needs(role), (fn.unreadable, "resource_policy")),
        fix=f"{ADDR['schedule_policy']} (allow lambda:InvokeFunction on {fn.arn})"))  # fmt: skip
    return rows


def _decided_row(
    id_: str, link: int, asked: Asked, role: RoleState, *, needs: tuple[Unreadable, ...], fix: str
) -> Row:
    """A same-account request: either side may allow it, so the whole decision counts."""
    why = missing(*needs)
    if why is not None:
        return unknown_row(id_, link, asked.principal, asked.action, asked.resource, why)
    try:
        decision = ask(asked)
    except PolicyError as exc:
        return unknown_row(id_, link, asked.principal, asked.action, asked.resource, str(exc))
    result = side(decision, IDENTITY_SIDE | RESOURCE_SIDE, what=f"the policies of {role.name}")
    ok = decision.allowed
    return Row(
        id_, link, Verdict.PASS if ok else Verdict.FAIL, asked.principal, asked.action,
        asked.resource, result.statement,
        result.evidence if not ok or result.ok else decision.explanation,
        "" if ok else fix,
    )  # fmt: skip


def logs_rows(state: State) -> list[Row]:
    role = state.role_a
    session, stream = rq.role_a_session(state), rq.log_stream_arn(state)
    rows = [
        _decided_row(
            "0.logs", 0,
            Asked(session, action, stream, {"aws:SecureTransport": "true"},
                  principal_arn=role.arn, identity=role.identity_policies, boundary=role.boundary),
            role, needs=identity_needs(role),
            fix=f"{ADDR['role_a_policy']} (statement WriteOwnLogs: logs:CreateLogStream and "
            "logs:PutLogEvents on the function's log group)",
        )
        for action in ("logs:CreateLogStream", "logs:PutLogEvents")
    ]  # fmt: skip
    return [combine("0.logs", rows)]


# ----------------------------------------------------------------------------- link 1
def lambda_rows(state: State) -> list[Row]:
    fn, role = state.function, state.role_a
    rows: list[Row] = []
    if "configuration" in fn.unreadable:
        rows.append(unknown_row("1.role", 1, fn.arn, "lambda:GetFunctionConfiguration", fn.arn,
                             fn.unreadable["configuration"]))  # fmt: skip
    elif fn.role_arn is not None and fn.role_arn != role.arn:
        rows.append(
            Row("1.role", 1, Verdict.FAIL, fn.arn, "iam:PassRole", fn.role_arn, None,
                f"the function runs as {fn.role_arn}, not role A {role.arn}",
                f"{ADDR['function']} (role = {ADDR['role_a']}.arn)")
        )  # fmt: skip
    rows.append(
        side_row(
            "1.trust", 1,
            Asked("lambda.amazonaws.com", "sts:AssumeRole", role.arn,
                  rq.lambda_trust_context(state), resource_policy=trust_policy(role),
                  resource_kind=PolicyKind.TRUST),
            RESOURCE_SIDE, f"the trust policy of {role.name}",
            f"{ADDR['role_a']} (assume_role_policy: Service lambda.amazonaws.com, "
            "aws:SourceAccount = account A)",
            needs=((role.unreadable, "trust"),),
        )
    )  # fmt: skip
    return rows


# ----------------------------------------------------------------------------- links 2-3
def _assume_b(state: State, action: str = "sts:AssumeRole") -> Asked:
    a, b = state.role_a, state.role_b
    return Asked(
        rq.role_a_session(state),
        action,
        rq.role_b_arn(state),
        rq.assume_b_context(state),
        principal_arn=a.arn,
        identity=a.identity_policies,
        boundary=a.boundary,
        resource_policy=trust_policy(b),
        resource_kind=PolicyKind.TRUST,
    )


def _trust_hints(state: State) -> Callable[[SideResult], str]:
    def hints(result: SideResult) -> str:
        if result.ok:
            return ""
        trust = json.dumps(state.role_b.trust or {})
        notes: list[str] = []
        ids = sorted(set(re.findall(r'"(AROA[A-Z0-9]{12,})"', trust)))
        if ids:
            notes.append(
                f"; the trust policy names the bare unique id {', '.join(ids)}: the role it "
                "trusted was deleted (and perhaps recreated under the same name), so it "
                "trusts nobody now -- re-apply the trust policy with role A's ARN"
            )
        if "sts:externalid" in trust.lower() and not state.function.environment.get("EXTERNAL_ID"):
            notes.append(
                "; the trust policy requires an sts:ExternalId and the function sends none "
                f"(EXTERNAL_ID is unset in {ADDR['function']}): set var.external_id, which "
                "sets both"
            )
        return "".join(notes)

    return hints


def assume_rows(state: State) -> list[Row]:
    a, b = state.role_a, state.role_b
    rows: list[Row] = []
    target = rq.role_b_arn(state)
    if target != b.arn:
        rows.append(
            Row("2.target", 2, Verdict.FAIL, state.function.arn, "sts:AssumeRole", target, None,
                f"the function's ACCOUNT2_ROLE_ARN is {target}, not role B {b.arn}",
                f"{ADDR['function']} (environment ACCOUNT2_ROLE_ARN = {ADDR['role_b']}.arn)")
        )  # fmt: skip
    asked = _assume_b(state)
    org = org_unknown(state, state.account_a, a.trust, b.trust, *[
        p.document for p in a.identity_policies])  # fmt: skip
    rows.append(
        side_row(
            "2.assume", 2, asked, IDENTITY_SIDE, f"the policies of {a.name}",
            f"{ADDR['role_a_policy']} (statement AssumeOnlyRoleBOnlyFromTheReporterFunction: "
            f"sts:AssumeRole on {b.arn}; its lambda:SourceFunctionArn condition must name "
            "this function)",
            needs=(*identity_needs(a), (state.function.unreadable, "configuration")),
        )
    )  # fmt: skip
    rows.append(_duration_row(state))
    trust_row = side_row(
        "3.trust", 3, asked, RESOURCE_SIDE, f"the trust policy of {b.name}",
        f"{ADDR['role_b']} (assume_role_policy: Principal AWS = {a.arn}, and the "
        "ExternalId/organization conditions the function can meet)",
        needs=((b.unreadable, "trust"), (state.function.unreadable, "configuration")),
        extra=_trust_hints(state),
    )  # fmt: skip
    if org is not None and trust_row.verdict is Verdict.FAIL:
        trust_row = unknown_row("3.trust", 3, asked.principal, asked.action, asked.resource, org)
    rows.append(trust_row)
    if state.session_tags:
        rows.append(
            side_row("3.tags", 3, _assume_b(state, "sts:TagSession"), IDENTITY_SIDE | RESOURCE_SIDE,
                 f"the trust policy of {b.name} and the policies of {a.name}",
                 f"{ADDR['role_b']} (trust policy: allow sts:TagSession) and "
                 f"{ADDR['role_a_policy']}", needs=((b.unreadable, "trust"),))
        )  # fmt: skip
    return rows


# Role chaining caps a session at one hour whatever the role allows
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining).
ROLE_CHAIN_MAX = 3600


def _duration_row(state: State) -> Row:
    b = state.role_b
    asked = state.session_seconds
    limit = ROLE_CHAIN_MAX
    why = f"role chaining (role A's session assumes role B) caps sessions at {ROLE_CHAIN_MAX} s"
    if b.max_session_seconds is not None and b.max_session_seconds < limit:
        limit, why = b.max_session_seconds, f"{b.name}'s MaxSessionDuration is {limit} s"
    ok = asked <= limit
    return Row(
        "2.duration", 2, Verdict.PASS if ok else Verdict.FAIL, rq.role_a_session(state),
        "sts:AssumeRole", b.arn, None,
        f"the reporter asks for DurationSeconds={asked}; {why}",
        "" if ok else f"ask for at most {limit} s (reporter/session.py) or raise "
        f"{ADDR['role_b']}.max_session_duration",
    )  # fmt: skip
