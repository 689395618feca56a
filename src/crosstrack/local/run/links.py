"""The links of the trust chain (design.md), how to break each one on purpose, and how
to read from the audit log which decision allowed or denied each.

A breakage is what an administrator's careless console edit would do: it changes one
policy document in the emulator's own state (as that account's administrator, outside the
deployed identities' permissions) and returns a function that puts the document back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from crosstrack.errors import InputError
from crosstrack.iam import Decision, Effect, Layer
from crosstrack.local.accounts import ACCOUNT_A, ACCOUNT_B
from crosstrack.local.auth import decisions
from crosstrack.local.moto import resources, state

# The names of `crosstrack demo --break`, in chain order.
LINKS: Final = (
    "schedule-invoke",
    "logs",
    "a-trust",
    "a-assume",
    "b-trust",
    "b-s3",
    "bucket-policy",
    "deploy-role",
)

DESCRIPTIONS: Final[Mapping[str, str]] = {
    "schedule-invoke": "remove lambda:InvokeFunction from the schedule's role",
    "logs": "remove the CloudWatch Logs statements from role A's policy",
    "a-trust": "make role A trust ec2.amazonaws.com instead of lambda.amazonaws.com",
    "a-assume": "remove sts:AssumeRole on role B from role A's policy",
    "b-trust": "make role B trust the operator user instead of role A",
    "b-s3": "delete role B's S3 permissions",
    "bucket-policy": "add a bucket-policy statement denying s3:PutObject to role B",
    "deploy-role": "make B's terraform role trust nobody from account A",
}

Restore = Callable[[], None]


class LinkError(InputError, ValueError):
    """An unknown link name, or a deployment that lacks what the link needs (exit 2)."""


@dataclass(frozen=True)
class Deployment:
    """The deployed names the links refer to (from Terraform's outputs)."""

    function_name: str
    function_arn: str
    role_a_arn: str
    role_b_arn: str
    schedule_role_arn: str
    bucket: str
    object_key: str = "iss_position.txt"


def _role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _actions(statement: Mapping[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else list(action)


def _rewrite_role_policies(
    account: str, role_arn: str, keep: Callable[[Mapping[str, Any]], bool]
) -> Restore:
    """Drop the statements ``keep`` rejects from every inline policy of the role."""
    role_name = _role_name(role_arn)
    saved = dict(state.role(account, role_name).inline)
    rewritten: dict[str, str] = {}
    for name, document in saved.items():
        parsed = json.loads(document)
        statements = parsed.get("Statement", [])
        statements = [statements] if isinstance(statements, dict) else statements
        kept = [s for s in statements if keep(s)]
        if kept:
            rewritten[name] = json.dumps({**parsed, "Statement": kept})
    state.set_role_policies(account, role_name, rewritten)

    def restore() -> None:
        state.set_role_policies(account, role_name, saved)

    return restore


def _replace_trust(account: str, role_arn: str, principal: Mapping[str, str]) -> Restore:
    role_name = _role_name(role_arn)
    saved = state.role(account, role_name).trust_policy
    state.set_trust_policy(
        account,
        role_name,
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )

    def restore() -> None:
        state.set_trust_policy(account, role_name, saved)

    return restore


def _deny_put_in_bucket_policy(dep: Deployment) -> Restore:
    saved = resources.get_bucket_policy(ACCOUNT_B, dep.bucket)
    policy = json.loads(saved) if saved else {"Version": "2012-10-17", "Statement": []}
    policy["Statement"] = [
        *policy.get("Statement", []),
        {
            "Sid": "DemoBreakDenyRoleBWrites",
            "Effect": "Deny",
            "Principal": {"AWS": dep.role_b_arn},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{dep.bucket}/*",
        },
    ]
    resources.put_bucket_policy(ACCOUNT_B, dep.bucket, json.dumps(policy).encode())

    def restore() -> None:
        if saved:
            resources.put_bucket_policy(ACCOUNT_B, dep.bucket, saved)
        else:
            resources.delete_bucket_policy(ACCOUNT_B, dep.bucket)

    return restore


def break_deploy_role() -> Restore:
    """B's ``terraform`` role stops trusting account A (before a deploy)."""
    return _replace_trust(
        ACCOUNT_B,
        f"arn:aws:iam::{ACCOUNT_B}:role/terraform",
        {"AWS": f"arn:aws:iam::{ACCOUNT_B}:root"},
    )


def check_link(link: str) -> None:
    """Raise :class:`LinkError` unless ``link`` is one of :data:`LINKS`."""
    if link not in LINKS:
        raise LinkError(f"--break: unknown link {link!r}; choose one of {', '.join(LINKS)}")


def break_link(link: str, dep: Deployment) -> Restore:
    """Break ``link`` of the deployed chain; return the function that restores it."""

    def not_logs(s: Mapping[str, Any]) -> bool:
        return not any(a.lower().startswith("logs:") for a in _actions(s))

    def not_assume(s: Mapping[str, Any]) -> bool:
        return not any(a.lower() == "sts:assumerole" for a in _actions(s))

    def not_invoke(s: Mapping[str, Any]) -> bool:
        return not any(a.lower() == "lambda:invokefunction" for a in _actions(s))

    breakers: dict[str, Callable[[], Restore]] = {
        "schedule-invoke": lambda: _rewrite_role_policies(
            ACCOUNT_A, dep.schedule_role_arn, not_invoke
        ),
        "logs": lambda: _rewrite_role_policies(ACCOUNT_A, dep.role_a_arn, not_logs),
        "a-trust": lambda: _replace_trust(
            ACCOUNT_A, dep.role_a_arn, {"Service": "ec2.amazonaws.com"}
        ),
        "a-assume": lambda: _rewrite_role_policies(ACCOUNT_A, dep.role_a_arn, not_assume),
        "b-trust": lambda: _replace_trust(
            ACCOUNT_B, dep.role_b_arn, {"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/operator"}
        ),
        "b-s3": lambda: _rewrite_role_policies(ACCOUNT_B, dep.role_b_arn, lambda _s: False),
        "bucket-policy": lambda: _deny_put_in_bucket_policy(dep),
        "deploy-role": break_deploy_role,
    }
    check_link(link)
    return breakers[link]()


# ----------------------------------------------------------------------- chain table
@dataclass(frozen=True)
class ChainRow:
    """One link of the chain and the audit entry that decided it (None: not reached)."""

    number: str
    link: str
    entry: Mapping[str, Any] | None
    statement: str
    ok: bool

    @property
    def mark(self) -> str:
        if self.entry is None:
            return "·"  # the run never got this far
        return "✓" if self.ok else "✗"


def _matching(decision: Decision, layer: Layer, effect: Effect) -> str | None:
    """The ``effect`` statement of ``layer`` that matched, as "policy [Sid]", if any."""
    for match in decision.matched:
        if match.layer is layer and match.effect is effect:
            return match.policy + (f" [{match.sid}]" if match.sid else "")
    return None


# The chain table's own check: no Deny of the bucket policy matched (an Allow is not needed).
BUCKET_DENY: Final = "bucket"


def _row(number: str, link: str, entry: Mapping[str, Any] | None, layer: Layer | str) -> ChainRow:
    if entry is None:
        return ChainRow(number, link, None, "(not reached)", ok=False)
    decision = decisions.from_entry(entry)
    if decision is None:  # rejected before any policy was read (bad key, signature...)
        return ChainRow(number, link, entry, str(entry.get("reason") or "rejected"), ok=False)
    if layer == BUCKET_DENY:
        # This link holds when no Deny of the bucket policy matched the request.
        deny = _matching(decision, Layer.RESOURCE_POLICY, Effect.DENY)
        if deny is not None:
            return ChainRow(number, link, entry, f"denied by {deny}", ok=False)
        return ChainRow(number, link, entry, "no Deny matched in the bucket policy", ok=True)
    assert isinstance(layer, Layer)
    statement = _matching(decision, layer, Effect.ALLOW)
    if statement is not None:
        return ChainRow(number, link, entry, statement, ok=True)
    why = decision.explanation or "no statement allows it"
    return ChainRow(number, link, entry, why, ok=decision.allowed)


def chain_rows(entries: Iterable[Mapping[str, Any]], dep: Deployment) -> list[ChainRow]:
    """The newest audit entry for each link of design.md's chain, judged per layer."""
    latest: dict[str, Mapping[str, Any]] = {}
    object_arn_prefix = f"arn:aws:s3:::{dep.bucket}/"
    for e in entries:
        action, resource, principal = e.get("action"), e.get("resource", ""), e.get("principal")
        if action == "lambda:InvokeFunction" and dep.function_name in str(resource):
            latest["invoke"] = e
        elif action == "logs:PutLogEvents" and dep.function_name in str(resource):
            latest["logs"] = e
        elif action == "sts:AssumeRole" and resource == dep.role_a_arn:
            if principal == "lambda.amazonaws.com":
                latest["a-trust"] = e
        elif action == "sts:AssumeRole" and resource == dep.role_b_arn:
            latest["b"] = e
        elif action == "s3:PutObject" and str(resource).startswith(object_arn_prefix):
            latest["s3"] = e
    return [
        _row("0", "the schedule may invoke the function", latest.get("invoke"), Layer.IDENTITY),
        _row("0", "the function may write its logs", latest.get("logs"), Layer.IDENTITY),
        _row(
            "1",
            "lambda.amazonaws.com may assume role A",
            latest.get("a-trust"),
            Layer.RESOURCE_POLICY,
        ),
        _row("2", "role A may call sts:AssumeRole on role B", latest.get("b"), Layer.IDENTITY),
        _row("3", "role B trusts role A", latest.get("b"), Layer.RESOURCE_POLICY),
        _row("4", "role B may s3:PutObject on the log object", latest.get("s3"), Layer.IDENTITY),
        _row("5", "the bucket policy does not deny", latest.get("s3"), BUCKET_DENY),
    ]
