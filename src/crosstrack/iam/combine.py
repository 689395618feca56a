"""Combining the layers' results into the decision (no statement is looked at here).

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html

Order: an explicit Deny in any applicable policy wins; then every SCP level (the caller's
account) and every RCP level (the resource's account) must hold an Allow; then the resource
policy and the caller's identity side (identity policies ∩ permissions boundary ∩ session
policy). Within one account either side suffices, except that trust and KMS key policies must
allow explicitly, and *how* the resource policy named the caller decides which implicit denies
still count (evaluation-logic page, "Resource-based policies" table):

* session ARN: nothing else needed; IAM user ARN: not limited by identity policy or boundary;
* role ARN (and ``"*"``): not limited by the identity policy, but by boundary and session policy;
* account (``"1111..."`` / ``:root``): delegates to the account: the identity side must allow.

Across accounts both the resource policy and the identity side must allow.
"""

from __future__ import annotations

from crosstrack.iam.members import (
    ALLOWED,
    ALLOWED_BY_IDENTITY,
    ALLOWED_BY_RESOURCE_POLICY,
    BOUNDARY_LIMITS_ROLE_GRANT,
    CROSS_ACCOUNT,
    DENIED_EXPLICITLY,
    EXPLICIT_DENY,
    GRANT_ACCOUNT,
    GRANT_USER,
    IDENTITY,
    IMPLICIT_DENY,
    NO_ALLOW,
    PERMISSION_BOUNDARY,
    RCP,
    RESOURCE_POLICY,
    RESOURCE_POLICY_REQUIRED,
    ROOT,
    SCP,
    SERVICE,
    SESSION_POLICY,
)
from crosstrack.iam.model import Layer, Reason, Verdict
from crosstrack.iam.principals import Caller, Grant

#: A layer's result: (some statement allows, some statement denies, best resource-policy grant)
LayerResult = tuple[bool, bool, Grant | None]
ABSENT: LayerResult = (False, False, None)
#: The SCP or RCP levels' result: (the levels without an Allow, whether some level denies)
LevelsResult = tuple[tuple[int, ...], bool]
#: The results of the resource policy, identity policies, permissions boundary and session
#: policy (None: the caller has no boundary / session policy)
SideResults = tuple[LayerResult, LayerResult, LayerResult | None, LayerResult | None]


#: The decision and what it rests on: (verdict, deciding layer, the layers that lack an Allow
#: in AWS's order, reasons). A plain tuple: one is built per evaluation.
Verdicts = tuple[Verdict, Layer | None, tuple[Layer, ...], tuple[Reason, ...]]


def combine(
    scp: LevelsResult | None,
    rcp: LevelsResult | None,
    sides: SideResults,
    caller: Caller,
    resource_account: str | None,
    *,
    requires_resource: bool,
) -> Verdicts:
    """The decision from each layer's result (``None``: SCPs / RCPs do not apply)."""
    resource, identity, boundary, session = sides
    # 1. An explicit deny in any applicable policy wins (the first such layer decides).
    denied_by = (
        SCP
        if scp is not None and scp[1]
        else RCP
        if rcp is not None and rcp[1]
        else RESOURCE_POLICY
        if resource[1]
        else IDENTITY
        if identity[1]
        else PERMISSION_BOUNDARY
        if boundary is not None and boundary[1]
        else SESSION_POLICY
        if session is not None and session[1]
        else None
    )
    if denied_by is not None:
        return EXPLICIT_DENY, denied_by, (), (DENIED_EXPLICITLY,)
    reasons: list[Reason] = []
    # 2. The resource policy and the caller's identity side.
    if caller.kind is SERVICE:
        # A service principal has no identity side: only the resource policy can allow it.
        side_missing: tuple[Layer, ...] = () if resource[2] is not None else (RESOURCE_POLICY,)
        granted_by = RESOURCE_POLICY
    else:
        side_missing, granted_by = _resource_and_identity(
            grant=resource[2],
            identity_allows=identity[0],
            boundary_allows=None if boundary is None else boundary[0],
            session_allows=None if session is None else session[0],
            caller=caller,
            resource_account=resource_account,
            requires_resource=requires_resource,
            reasons=reasons,
        )
    # 3. Every SCP level (caller's account) and RCP level (resource's account) must allow.
    # In AWS's order of layers: the SCPs, the RCPs, then the sides (already in order).
    missing: tuple[Layer, ...] = (SCP,) if scp is not None and scp[0] else ()
    if rcp is not None and rcp[0]:
        missing += (RCP,)
    missing += side_missing
    if missing:
        return IMPLICIT_DENY, missing[0], missing, (*reasons, NO_ALLOW)
    final = ALLOWED_BY_RESOURCE_POLICY if granted_by is RESOURCE_POLICY else ALLOWED_BY_IDENTITY
    return ALLOWED, granted_by, (), (*reasons, final)


def _resource_and_identity(
    *,
    grant: Grant | None,
    identity_allows: bool,
    boundary_allows: bool | None,
    session_allows: bool | None,
    caller: Caller,
    resource_account: str | None,
    requires_resource: bool,
    reasons: list[Reason],
) -> tuple[tuple[Layer, ...], Layer]:
    """The layers still lacking an Allow on the best path (in AWS's order), and the layer
    that grants."""
    limits_missing: tuple[Layer, ...] = (PERMISSION_BOUNDARY,) if boundary_allows is False else ()
    if session_allows is False:
        limits_missing += (SESSION_POLICY,)
    # (the root user has full access to its account)
    identity_ok = identity_allows or caller.kind is ROOT
    identity_missing = limits_missing if identity_ok else (IDENTITY, *limits_missing)
    resource_missing: tuple[Layer, ...] = () if grant is not None else (RESOURCE_POLICY,)
    if requires_resource:
        reasons.append(RESOURCE_POLICY_REQUIRED)
    if caller.account != resource_account:
        # Cross-account: the resource's account and the caller's account must both allow.
        reasons.append(CROSS_ACCOUNT)
        return resource_missing + identity_missing, IDENTITY
    if grant is None:
        return (resource_missing if requires_resource else ()) + identity_missing, IDENTITY
    if grant >= GRANT_USER:
        # Granted to the session (or IAM user) itself: other implicit denies do not count.
        return (), RESOURCE_POLICY
    if grant is not GRANT_ACCOUNT:
        # Granted to the role ARN (or "*"): still limited by boundary and session policy.
        if limits_missing:
            reasons.append(BOUNDARY_LIMITS_ROLE_GRANT)
        return limits_missing, RESOURCE_POLICY
    # Granted to the account: delegated to the account's identity-based policies.
    return identity_missing, IDENTITY
