"""The diagnosis on a state as infra/ deploys it: intact, then each breakage fails its row."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.unit.doctor import states as s

from crosstrack.doctor.diagnosis import diagnose, ok
from crosstrack.doctor.model import NamedPolicy, State, Verdict


def failing(state: State) -> dict[str, str]:
    return {r.id: r.evidence for r in diagnose(state) if r.verdict is not Verdict.PASS}


def test_intact_chain_passes_every_row() -> None:
    for kms in (False, True):
        rows = diagnose(s.state(kms=kms))
        assert ok(rows)
        assert [r for r in rows if r.verdict is not Verdict.PASS] == []
        assert {"0.invoke", "0.logs", "1.trust", "2.assume", "3.trust", "4.put", "5.bucket",
                "5.kms"} <= {r.id for r in rows}  # fmt: skip


def _a_trust(st: State) -> None:
    assert st.role_a.trust is not None
    st.role_a.trust = s.doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )


def _a_policy(st: State, *statements: dict[str, object]) -> None:
    old = st.role_a.inline[0]
    st.role_a.inline = [NamedPolicy(old.name, s.doc(*statements), old.address)]


def _a_no_assume(st: State) -> None:
    _a_policy(st, dict(st.role_a.inline[0].document["Statement"][1]))


def _a_wrong_function(st: State) -> None:
    first, second = st.role_a.inline[0].document["Statement"]
    other = s.FN_ARN.replace(s.FN, "some-other-function")
    _a_policy(
        st, {**first, "Condition": {"ArnEquals": {"lambda:SourceFunctionArn": other}}}, second
    )


def _b_trust(principal: object, **extra: object) -> Callable[[State], None]:
    def apply(st: State) -> None:
        st.role_b.trust = s.doc(
            {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}
        )

    return apply


def _b_no_put(st: State) -> None:
    old = st.role_b.inline[0]
    first, second = old.document["Statement"]
    new = s.doc({**first, "Action": ["s3:GetObject"]}, second)
    st.role_b.inline = [NamedPolicy(old.name, new, old.address)]


def _bucket_deny(st: State) -> None:
    assert st.bucket.policy is not None
    st.bucket.policy = s.doc(
        *st.bucket.policy["Statement"],
        {"Sid": "NoWrites", "Effect": "Deny", "Principal": {"AWS": s.ROLE_B},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{s.BUCKET}/*"},
    )  # fmt: skip


def _key_without_b(st: State) -> None:
    assert st.key is not None
    assert st.key.policy is not None
    st.key.policy = s.doc(st.key.policy["Statement"][0])


def _no_invoke(st: State) -> None:
    assert st.schedule_role is not None
    old = st.schedule_role.inline[0]
    st.schedule_role.inline = [NamedPolicy(old.name, s.doc({"Effect": "Allow",
        "Action": "sqs:SendMessage", "Resource": "*"}))]  # fmt: skip


def _no_logs(st: State) -> None:
    _a_policy(st, dict(st.role_a.inline[0].document["Statement"][0]))


def _long_session(st: State) -> None:
    st.session_seconds = 7200


BREAKAGES: dict[str, tuple[Callable[[State], None], str, bool]] = {
    "a-trust without lambda": (_a_trust, "1.trust", False),
    "a without assume": (_a_no_assume, "2.assume", False),
    "a condition on another function": (_a_wrong_function, "2.assume", False),
    "b trusts another principal": (
        _b_trust({"AWS": f"arn:aws:iam::{s.A}:user/operator"}), "3.trust", False),
    "b requires an external id": (
        _b_trust({"AWS": s.ROLE_A}, Condition={"StringEquals": {"sts:ExternalId": "x-123"}}),
        "3.trust", False),
    "recreated role a": (_b_trust({"AWS": "AROAEXAMPLEUNIQUEID12"}), "3.trust", False),
    "b without put": (_b_no_put, "4.put", False),
    "bucket policy deny": (_bucket_deny, "5.bucket", False),
    "key policy without b": (_key_without_b, "5.kms", True),
    "schedule without invoke": (_no_invoke, "0.invoke", False),
    "no logs": (_no_logs, "0.logs", False),
    "session too long": (_long_session, "2.duration", False),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_each_breakage_fails_exactly_its_row(name: str) -> None:
    breaker, row_id, kms = BREAKAGES[name]
    st = s.state(kms=kms)
    breaker(st)
    rows = diagnose(st)
    bad = [r for r in rows if r.verdict in (Verdict.FAIL, Verdict.UNKNOWN)]
    assert [r.id for r in bad] == [row_id], [(r.id, r.verdict, r.evidence) for r in bad]
    assert bad[0].verdict is Verdict.FAIL
    assert bad[0].principal
    assert bad[0].resource
    assert bad[0].fix
    assert not ok(rows)


def test_wrong_function_condition_names_the_statement_and_the_condition() -> None:
    st = s.state()
    _a_wrong_function(st)
    (row,) = [r for r in diagnose(st) if r.id == "2.assume"]
    assert row.statement is not None
    assert row.statement.sid == "AssumeOnlyRoleB"
    assert "lambda:SourceFunctionArn" in row.evidence
    assert "module.source.aws_iam_role_policy.execution" in row.fix


def test_external_id_and_unique_id_evidence_say_why() -> None:
    st = s.state()
    _b_trust({"AWS": s.ROLE_A}, Condition={"StringEquals": {"sts:ExternalId": "x"}})(st)
    (row,) = [r for r in diagnose(st) if r.id == "3.trust"]
    assert "EXTERNAL_ID is unset" in row.evidence
    st = s.state()
    _b_trust({"AWS": "AROAEXAMPLEUNIQUEID12"})(st)
    (row,) = [r for r in diagnose(st) if r.id == "3.trust"]
    assert "deleted" in row.evidence
    assert "AROAEXAMPLEUNIQUEID12" in row.evidence


def test_unreadable_state_is_unknown_and_names_the_permission() -> None:
    st = s.state()
    st.role_b.trust = None
    st.role_b.unreadable["trust"] = "iam:GetRole denied on arn:aws:iam::222222222222:role/x"
    (row,) = [r for r in diagnose(st) if r.id == "3.trust"]
    assert row.verdict is Verdict.UNKNOWN
    assert "iam:GetRole" in row.evidence
    assert not ok(diagnose(st))


def test_warnings_pass_but_show() -> None:
    st = s.state()
    st.role_b.trust = s.doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{s.A}:root"},
            "Action": "sts:AssumeRole",
        }
    )
    old = st.role_b.inline[0]
    st.role_b.inline = [NamedPolicy(old.name, s.doc({"Effect": "Allow", "Action": "s3:*",
        "Resource": f"arn:aws:s3:::{s.BUCKET}/*"}), old.address)]  # fmt: skip
    rows = diagnose(st)
    warned = {r.id for r in rows if r.verdict is Verdict.WARN}
    assert {"3.open-trust", "4.wildcard", "4.delete", "4.scope"} <= warned
    # account root delegates to account A's policies, which allow role A: the chain holds
    assert ok(rows)
