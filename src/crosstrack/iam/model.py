"""Values of the engine: compiled policies, the request, the decision and its explanation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

from crosstrack.iam.conditions import ConditionEntry, ContextTest
from crosstrack.iam.principals import Caller, Grant, PrincipalSet
from crosstrack.iam.variables import Template
from crosstrack.iam.wildcards import Matcher


class Effect(Enum):
    """A statement's ``Effect``."""

    ALLOW = "Allow"
    DENY = "Deny"


class PolicyKind(Enum):
    """Which kind of policy a document is; decides which elements are valid.

    https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#access_policy-types
    """

    IDENTITY = "identity"
    BOUNDARY = "boundary"
    SESSION = "session"
    SCP = "scp"
    RESOURCE = "resource"  # bucket policy, key policy, ...
    TRUST = "trust"  # a role's trust policy (a resource policy with no Resource element)
    RCP = "rcp"


class Layer(Enum):
    """The policy layers of one evaluation; values are the names used in results."""

    SCP = "scp"
    RCP = "rcp"
    RESOURCE_POLICY = "resource_policy"
    IDENTITY = "identity"
    PERMISSION_BOUNDARY = "permission_boundary"
    SESSION_POLICY = "session_policy"


#: AWS's evaluation order, used to pick which layer "decided".
LAYER_ORDER: tuple[Layer, ...] = tuple(Layer)


class Verdict(Enum):
    """The decision, in the IAM policy simulator's vocabulary."""

    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"


@dataclass(frozen=True, slots=True)
class Statement:
    """One compiled statement. ``resources`` is None when the element is absent (trust policies)."""

    index: int
    sid: str | None
    effect: Effect
    actions: Matcher
    not_action: bool
    resources: tuple[str | Template, ...] | None
    # ``resources`` split for matching: the entries without variables compiled into one
    # matcher (one that never matches when there are none), and those with variables,
    # resolved per request
    resource_matcher: Matcher
    resource_templates: tuple[Template, ...]
    not_resource: bool
    principals: PrincipalSet | None
    not_principal: bool
    conditions: tuple[ConditionEntry, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    """A parsed, validated and compiled policy document (immutable, safe to share and cache)."""

    kind: PolicyKind
    version: str
    statements: tuple[Statement, ...]
    id: str | None = None
    name: str | None = None  # set by the caller to label results ("AllowAssumeB")
    # statements whose Action/NotAction matches, per lower-cased action (filled on demand;
    # shared by every copy of the policy, so the hot path matches each action once)
    by_action: dict[str, tuple[Statement, ...]] = field(default_factory=dict, compare=False)
    # MatchedStatement values per (layer, label), indexed by statement: built once, since
    # what a match reports depends only on the statement and where the policy sits
    matched_by_label: dict[tuple[str, str], tuple[MatchedStatement, ...]] = field(
        default_factory=dict, compare=False
    )
    # evaluate's hot path: per (lower-cased action, layer value, label), the statements whose
    # action matches, each flattened into a PlanEntry (filled on demand, shared like the above)
    plans: dict[tuple[str, str, str], tuple[PlanEntry, ...]] = field(
        default_factory=dict, compare=False
    )

    def statements_for(self, action: str) -> tuple[Statement, ...]:
        """The statements whose Action/NotAction element matches ``action``."""
        key = action.lower()
        found = self.by_action.get(key)
        if found is None:
            found = tuple(st for st in self.statements if st.actions(action) != st.not_action)
            if len(self.by_action) < 256:  # bounded: actions come from requests
                self.by_action[key] = found
        return found

    def matched_statements(self, layer: Layer, label: str) -> tuple[MatchedStatement, ...]:
        """What each statement reports when it matches, for this policy at ``layer``/``label``."""
        key = (layer._value_, label)  # not .value: that is a Python-level descriptor
        found = self.matched_by_label.get(key)
        if found is None:
            found = tuple(
                MatchedStatement(layer, label, st.index, st.sid, st.effect)
                for st in self.statements
            )
            if len(self.matched_by_label) < 64:  # bounded: labels come from callers
                self.matched_by_label[key] = found
        return found


@dataclass(frozen=True, slots=True)
class Request:
    """One request to decide. ``context`` values are strings or tuples of strings.

    ``principal``: user, role, assumed-role session, root ARN or account id, or a service
    principal (``lambda.amazonaws.com``). ``principal_arn``: the role behind a session when the
    role has a path. ``resource_account``: needed when the resource ARN carries no account (S3).
    """

    principal: str
    action: str
    resource: str
    principal_arn: str | None = None
    resource_account: str | None = None
    context: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    """A statement that applied to the request."""

    layer: Layer
    policy: str
    statement: int
    sid: str | None
    effect: Effect
    # the simulate() form, built once (a MatchedStatement is made once per plan and reported
    # on every request the plan applies to); as_dict hands out copies
    row: dict[str, object] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        row = {
            "layer": self.layer.value,
            "policy": self.policy,
            "statement": self.statement,
            "sid": self.sid,
            "effect": self.effect.value,
        }
        object.__setattr__(self, "row", row)

    def as_dict(self) -> dict[str, object]:
        """The simulate() result form (a fresh dict: the caller may change it)."""
        return self.row.copy()


#: One statement as evaluate's hot path checks it (built once per policy, action and label):
#: (resource check: 0 none / 1 matcher / 2 matcher and templates, the matcher, NotResource,
#: the templates, the grant when it needs no caller, the grant function of the caller or
#: None, the test of the Condition block or None, what a match reports, whether the effect
#: is Deny, whether it is a Deny with NotPrincipal).
PlanEntry = tuple[
    int,
    Matcher,
    bool,
    tuple[Template, ...],
    Grant | None,
    Callable[[Caller], Grant | None] | None,
    ContextTest | None,
    MatchedStatement,
    bool,
    bool,
]


class Outcome(Enum):
    """Why a statement did or did not apply: the closed list explanations are built from."""

    APPLIES = "applies"
    ACTION_NOT_MATCHED = "action not matched"
    RESOURCE_NOT_MATCHED = "resource not matched"
    PRINCIPAL_NOT_MATCHED = "principal not matched"
    CONDITION_FALSE = "condition false"
    # Not produced since issue 14 (a variable with no value makes only its own Resource entry
    # or condition value match nothing); kept so that code naming it keeps working.
    VARIABLE_UNRESOLVED = "policy variable not in the request context"


@dataclass(frozen=True, slots=True)
class StatementTrace:
    """One statement's outcome, for ``--explain`` (``detail`` names the failing condition)."""

    layer: Layer
    policy: str
    statement: int
    sid: str | None
    effect: Effect
    outcome: Outcome
    detail: str | None = None


class Reason(Enum):
    """Why the decision came out as it did (closed list; sentences are rendered from these)."""

    EXPLICIT_DENY = "explicit-deny"
    NO_ALLOW = "no-allow"  # a layer that had to allow did not
    ALLOWED_BY_IDENTITY = "allowed-by-identity"
    ALLOWED_BY_RESOURCE_POLICY = "allowed-by-resource-policy"
    RESOURCE_POLICY_REQUIRED = "resource-policy-required"  # trust/key policy must allow
    CROSS_ACCOUNT = "cross-account"  # both accounts must allow
    BOUNDARY_LIMITS_ROLE_GRANT = "boundary-limits-role-grant"
    # notes: rules that shaped the decision without deciding it on their own
    VARIABLE_NO_VALUE = "variable-no-value"  # a Resource/NotResource entry matched nothing
    NOT_PRINCIPAL_BOUNDARY = "not-principal-boundary"  # NotPrincipal Deny under a boundary


#: A note on the decision: (which rule, what it applied to: a variable or a statement label).
Note = tuple[Reason, str]


@dataclass(frozen=True, init=False)
class Decision:
    """The engine's answer, with everything an explanation needs.

    ``layers`` (how a sentence names each layer) and ``explanation`` (the one sentence) are
    rendered from these fields on first access, so the emulator's hot path never pays for text.
    """

    decision: Verdict
    decided_by: Layer | None
    matched: tuple[MatchedStatement, ...]
    missing_allow: tuple[Layer, ...]
    reasons: tuple[Reason, ...]
    principal: str  # as displayed (the role ARN for a session)
    caller: str  # the request's principal as given (the session ARN for a session)
    action: str
    resource: str
    resource_account: str | None
    resource_policy_label: str  # "the trust policy of arn:...", "the bucket policy of b"
    trust: bool  # the resource policy is a trust policy (its label names the role)
    scp_levels_failing: tuple[int, ...] | None  # None: no SCPs apply
    rcp_levels_failing: tuple[int, ...] | None
    trace: tuple[StatementTrace, ...] = ()
    notes: tuple[Note, ...] = ()  # sorted, so both evaluation paths give the same

    def __init__(
        self,
        *,
        decision: Verdict,
        decided_by: Layer | None,
        matched: tuple[MatchedStatement, ...],
        missing_allow: tuple[Layer, ...],
        reasons: tuple[Reason, ...],
        principal: str,
        caller: str,
        action: str,
        resource: str,
        resource_account: str | None,
        resource_policy_label: str,
        trust: bool,
        scp_levels_failing: tuple[int, ...] | None,
        rcp_levels_failing: tuple[int, ...] | None,
        trace: tuple[StatementTrace, ...] = (),
        notes: tuple[Note, ...] = (),
    ) -> None:
        # The generated __init__ of a frozen dataclass sets each field through
        # object.__setattr__; one update of the instance dict does the same for a third of
        # the cost (one Decision per evaluation). The fields stay read-only afterwards.
        self.__dict__.update(
            decision=decision,
            decided_by=decided_by,
            matched=matched,
            missing_allow=missing_allow,
            reasons=reasons,
            principal=principal,
            caller=caller,
            action=action,
            resource=resource,
            resource_account=resource_account,
            resource_policy_label=resource_policy_label,
            trust=trust,
            scp_levels_failing=scp_levels_failing,
            rcp_levels_failing=rcp_levels_failing,
            trace=trace,
            notes=notes,
        )

    @property
    def allowed(self) -> bool:
        """True when the request is allowed."""
        return self.decision is Verdict.ALLOWED

    @cached_property
    def layers(self) -> Mapping[Layer, str]:
        """How a sentence names each layer that took part."""
        out = {
            layer: self.describe(layer)
            for layer in (
                Layer.RESOURCE_POLICY,
                Layer.IDENTITY,
                Layer.PERMISSION_BOUNDARY,
                Layer.SESSION_POLICY,
            )
        }
        for layer, failing in (
            (Layer.SCP, self.scp_levels_failing),
            (Layer.RCP, self.rcp_levels_failing),
        ):
            if failing is not None:
                out[layer] = self.describe(layer)
        return out

    def describe(self, layer: Layer) -> str:
        """How a sentence names ``layer`` (one of :attr:`layers`, built alone: explanations
        name one or two layers, and every ``simulate`` result has an explanation)."""
        from crosstrack.iam.explain import describe  # explain imports this module

        return describe(self, layer)

    @cached_property
    def explanation(self) -> str:
        """The one sentence a doctor prints."""
        # explain imports this module (it renders Decision values), hence the late import.
        from crosstrack.iam.explain import render

        return render(self, trust=self.trust)

    def as_dict(self) -> dict[str, object]:
        """The ``simulate`` result (issue 3's format)."""
        from crosstrack.iam.explain import result  # explain imports this module

        return result(self)
