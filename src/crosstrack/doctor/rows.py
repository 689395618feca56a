"""The building blocks every row shares: a side of one engine decision as a row, a row for
what could not be read, and the trust-policy workaround for bare unique ids. Used by the
chain of design.md (checks.py, storage.py, hygiene.py) and by any chain (chain.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from crosstrack.doctor.evaluation import Asked, SideResult, ask, side
from crosstrack.doctor.model import Document, NamedPolicy, RoleState, Row, State, Verdict
from crosstrack.iam import Layer, PolicyError

Unreadable = tuple[Mapping[str, str], str]


def missing(*parts: Unreadable) -> str | None:
    for unreadable, part in parts:
        if part in unreadable:
            return unreadable[part]
    return None


def unknown_row(  # noqa: PLR0917 - the row's fields, in the row's order
    id_: str, link: int, principal: str, action: str, resource: str, why: str
) -> Row:
    # A resource that does not exist is a failure of its link, not a gap in what was read.
    gone = why.startswith("does not exist")
    return Row(
        id_,
        link,
        Verdict.FAIL if gone else Verdict.UNKNOWN,
        principal,
        action,
        resource,
        None,
        why if gone else f"could not read what decides this: {why}",
        _unknown_fix(why),
    )


def _unknown_fix(why: str) -> str:
    if why.startswith(MISSING_FILE):  # --policies DIR (calls.py)
        return "save that command's output under that name in the --policies directory"
    if "denied" in why or "AccessDenied" in why:
        return (
            "grant the doctor the read permission named (infra/bootstrap/doctor-read-only-*.json)"
        )
    if why.startswith(NO_PROFILE):
        return "give --profile ACCOUNT=PROFILE for that account"
    return "re-run after apply, or against the deployed accounts"


# How the chain's sources start an unreadable reason (calls.py), so the fix can name the cure.
MISSING_FILE = "missing file "
NO_PROFILE = "no --profile for account "


def _mentions(document: object, key: str) -> bool:
    return key.lower() in json.dumps(document).lower()


def org_unknown(state: State, account: str, *documents: object) -> str | None:
    """A condition on aws:PrincipalOrgID* whose value the doctor could not learn."""
    if account in state.org_ids:
        return None
    for doc in documents:
        if doc is not None and (
            _mentions(doc, "aws:PrincipalOrgID") or _mentions(doc, "aws:PrincipalOrgPaths")
        ):
            return (
                f"a policy conditions on account {account}'s organization, which is unknown "
                "(organizations:DescribeOrganization denied, or a plan)"
            )
    return None


def side_row(  # noqa: PLR0917 - the row's fields, in the row's order
    id_: str,
    link: int,
    asked: Asked,
    layers: frozenset[Layer],
    what: str,
    fix: str,
    *,
    needs: tuple[Unreadable, ...] = (),
    extra: Callable[[SideResult], str] | None = None,
) -> Row:
    why = missing(*needs)
    if why is not None:
        return unknown_row(id_, link, asked.principal, asked.action, asked.resource, why)
    try:
        result = side(ask(asked), layers, what=what)
    except PolicyError as exc:
        return Row(
            id_, link, Verdict.UNKNOWN, asked.principal, asked.action, asked.resource, None,
            f"the engine cannot evaluate a policy here: {exc}", fix,
        )  # fmt: skip
    evidence = result.evidence + (extra(result) if extra is not None else "")
    return Row(
        id_,
        link,
        Verdict.PASS if result.ok else Verdict.FAIL,
        asked.principal,
        asked.action,
        asked.resource,
        result.statement,
        evidence,
        "" if result.ok else fix,
    )


# A principal IAM shows as its unique id (AROA..., AIDA...): the principal was deleted; the
# id matches no current principal, even one recreated under the same name
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles).
_UNIQUE_ID = re.compile(r"^A[A-Z]{3}[A-Z0-9]{12,}$")
# What the engine sees instead: an ARN in the reserved account 000000000000 that no caller has.
_NOBODY = "arn:aws:iam::000000000000:role/deleted-principal-{}"


def without_unique_ids(document: Document) -> Document:
    """The document with bare unique ids replaced by a principal that never matches (the
    engine accepts ARNs and account ids only)."""

    def fix(value: Any) -> Any:
        if isinstance(value, str) and _UNIQUE_ID.match(value):
            return _NOBODY.format(value)
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    statements = document.get("Statement", [])
    out = []
    for st in [statements] if isinstance(statements, dict) else statements:
        copy = dict(st) if isinstance(st, dict) else st
        if isinstance(copy, dict):
            for key in ("Principal", "NotPrincipal"):
                if isinstance(copy.get(key), dict) and "AWS" in copy[key]:
                    copy[key] = {**copy[key], "AWS": fix(copy[key]["AWS"])}
        out.append(copy)
    return {**document, "Statement": out}


def trust_policy(role: RoleState) -> NamedPolicy | None:
    if role.trust is None:
        return None
    return NamedPolicy(f"trust policy of {role.name}", without_unique_ids(role.trust), role.address)


def identity_needs(role: RoleState) -> tuple[Unreadable, ...]:
    return ((role.unreadable, "policies"), (role.unreadable, "boundary"))


def combine(id_: str, rows: list[Row]) -> Row:
    """One row from several requests of the same link (the first failure, else the first)."""
    worst = next((r for r in rows if r.verdict is Verdict.FAIL), None)
    worst = worst or next((r for r in rows if r.verdict is Verdict.UNKNOWN), rows[0])
    actions = ", ".join(dict.fromkeys(r.action for r in rows))
    return Row(
        id_, worst.link, worst.verdict, worst.principal, actions, worst.resource,
        worst.statement, worst.evidence, worst.fix,
    )  # fmt: skip
