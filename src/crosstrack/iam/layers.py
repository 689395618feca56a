"""Checking one layer's statements against the request: the hot path of :func:`evaluate`.

Each policy's statements come as a plan per (action, layer, label) (see :func:`plan`): only
the statements whose action matches, each flattened into one tuple and checked with cheap
exits in the order of the traced path (:mod:`crosstrack.iam.traced`), which must agree.

Two rules of the IAM User Guide shape the checks here:

* a policy variable with no value makes only its own Resource/NotResource entry match nothing
  ("the resource that includes a policy variable with no value will not match any resource",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-no-value);
* a Deny with NotPrincipal applies to every principal with a permissions boundary, "regardless
  of the values specified in the NotPrincipal element"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache, partial

from crosstrack.iam.combine import LayerResult
from crosstrack.iam.conditions import ConditionEntry, Context, ContextTest
from crosstrack.iam.members import DENY, GRANT_ANYONE, NOT_PRINCIPAL_BOUNDARY, VARIABLE_NO_VALUE
from crosstrack.iam.model import Layer, MatchedStatement, Note, PlanEntry, Policy
from crosstrack.iam.principals import Caller, Grant, PrincipalSet
from crosstrack.iam.variables import Template, UnresolvedVariable
from crosstrack.iam.wildcards import Matcher, compile_resource

#: What every layer of one evaluation is checked against, as one tuple (cheap to pass around):
#: (lower-cased action, action, resource, caller, context, template hits, matched, bounded,
#: notes). ``template hits``: per resource template (by identity: templates are interned),
#: whether its resolved pattern matches the resource, or None when a variable has no value.
#: ``matched``: every statement that applied, in the order of the layers (the result's order).
#: ``bounded``: the caller has a permissions boundary. ``notes``: rules that shaped the decision.
Env = tuple[
    str,
    str,
    str,
    Caller,
    Context,
    dict[int, bool | None],
    list[MatchedStatement],
    bool,
    list[Note],
]


@lru_cache(maxsize=1024)
def labels(prefix: str, level: int | None, count: int) -> tuple[str, ...]:
    """How results name the policies of a layer: ``identity_policies[1]``, ``scps[0][2]``."""
    base = prefix if level is None else f"{prefix}[{level}]"
    return tuple(f"{base}[{i}]" for i in range(count))


def check_layer(  # noqa: PLR0912 - the hot loop, kept in one function on purpose
    layer: Layer, policies: Sequence[Policy], names: tuple[str, ...], env: Env
) -> LayerResult:
    """Check one layer's policies: append what applies to the env's ``matched``."""
    action_key, action, resource, caller, context, hits, matched, bounded, notes = env
    allows = denies = False
    best: Grant | None = None
    layer_value = layer._value_  # not .value: that is a Python-level descriptor
    for i, policy in enumerate(policies):
        label = policy.name or names[i]
        entries = policy.plans.get((action_key, layer_value, label))
        if entries is None:
            entries = plan(policy, action, action_key, layer, label)
        for (
            check,
            matcher,
            negated,
            templates,
            fixed,
            grant_of,
            test,
            reported,
            deny,
            not_principal_deny,
        ) in entries:
            if check:
                if check == 1:
                    if matcher(resource) == negated:
                        continue
                elif not resource_applies(
                    matcher, negated, templates, resource, context, hits, notes
                ):
                    continue
            grant = fixed
            forced = False
            if grant_of is not None:
                grant = grant_of(caller)
                if grant is None:
                    if not (bounded and not_principal_deny):
                        continue
                    forced = True  # NotPrincipal + Deny under a permissions boundary
            if test is not None and not test(context):
                continue
            matched.append(reported)
            if forced:
                notes.append((NOT_PRINCIPAL_BOUNDARY, label))
            if deny:
                denies = True
            else:
                allows = True
                if grant is not None and (best is None or grant > best):
                    best = grant
    return allows, denies, best


def plan(
    policy: Policy, action: str, action_key: str, layer: Layer, label: str
) -> tuple[PlanEntry, ...]:
    """The statements of ``policy`` whose action matches, flattened for :func:`check_layer`."""
    reported = policy.matched_statements(layer, label)
    entries: list[PlanEntry] = []
    for st in policy.statements_for(action):
        check = 0
        if st.resources is not None:
            if st.resource_templates:
                check = 2
            elif "*" in st.resources:
                if st.not_resource:
                    continue  # NotResource "*" (and no variable): never applies
            else:
                check = 1
        fixed: Grant | None = None
        grant_of: Callable[[Caller], Grant | None] | None = None
        principals = st.principals
        if principals is not None:
            if st.not_principal:
                grant_of = partial(not_principal_grant, principals)
            elif principals.anyone and not principals.names:
                fixed = GRANT_ANYONE  # "*": the same grant for every caller
            else:
                grant_of = principals.grant_for
        deny = st.effect is DENY
        entries.append(
            (
                check,
                st.resource_matcher,
                st.not_resource,
                st.resource_templates,
                fixed,
                grant_of,
                conditions_test(st.conditions),
                reported[st.index],
                deny,
                deny and st.not_principal,
            )
        )
    found = tuple(entries)
    if len(policy.plans) < 1024:  # bounded: actions and labels come from callers
        policy.plans[(action_key, layer._value_, label)] = found
    return found


def conditions_test(conditions: tuple[ConditionEntry, ...]) -> ContextTest | None:
    """One test for a statement's whole Condition block (None: it has none), so the hot loop
    makes one call per statement."""
    if not conditions:
        return None
    if len(conditions) == 1:
        return conditions[0].test
    return partial(_all_hold, tuple(entry.test for entry in conditions))


def _all_hold(tests: tuple[ContextTest, ...], context: Context) -> bool:
    return all(test(context) for test in tests)


def not_principal_grant(principals: PrincipalSet, caller: Caller) -> Grant | None:
    """NotPrincipal: ANYONE unless ``caller`` is exempt."""
    return None if principals.excludes(caller) else GRANT_ANYONE


def resource_applies(  # noqa: PLR0917 - called on the hot path: positional on purpose
    matcher: Matcher,
    not_resource: bool,
    templates: tuple[Template, ...],
    resource: str,
    context: Context,
    hits: dict[int, bool | None],
    notes: list[Note],
) -> bool:
    """Whether a Resource/NotResource element with variables lets its statement apply.

    An entry whose variable has no value matches nothing; the other entries still count. The
    first entry that matches settles it; each template is resolved at most once per request
    (``hits``). The traced path calls this same function, so both note the same variables.
    """
    if matcher(resource):
        return not not_resource
    for template in templates:
        key = id(template)
        if hits[key] if key in hits else template_hit(template, resource, context, hits, notes):
            return not not_resource
    return not_resource


def template_hit(
    template: Template,
    resource: str,
    context: Context,
    hits: dict[int, bool | None],
    notes: list[Note],
) -> bool | None:
    """Whether ``template``, resolved, matches ``resource`` (None: a variable has no value);
    remembered in ``hits`` for the rest of the request."""
    try:
        pattern = template.resolve(context)
    except UnresolvedVariable as exc:
        notes.append((VARIABLE_NO_VALUE, exc.name))
        hits[id(template)] = None
        return None
    # compile_resource caches by pattern text, so each resolved pattern is compiled once.
    hit = hits[id(template)] = compile_resource(pattern)(resource)
    return hit
