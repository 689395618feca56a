"""The ``Condition`` element: every operator family behind one small interface.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html

Rules implemented here:

* Operators in a block AND; keys under one operator AND; several policy values for one key
  OR — and for a negated operator (``StringNotEquals``, ``NotIpAddress``...) NOR.
* Context keys are case-insensitive.
* A key missing from the request: positive operators are false, negated ones true,
  ``...IfExists`` true, ``ForAllValues`` true, ``ForAnyValue`` false; ``Null`` tests presence.
  An empty list counts as missing ("resolves to an empty data set").
* ``ForAnyValue``: some request value satisfies the operator; ``ForAllValues``: every one does.
  Without a set operator a multivalued request key is satisfied when any value matches
  (negated: when none does).
* ``ArnEquals`` and ``ArnLike`` both take wildcards, component by component.
* Policy variables only in string and ARN operators. A variable with no value in the request
  context (and no default) is "effectively null. There is no equal or like value": the policy
  value holding it matches nothing, so a positive operator gets no match from it and a negated
  one ("StringNotEquals" ...) holds against it; the other values of the list still count
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-no-value).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any

from crosstrack.iam.errors import PolicyError, show
from crosstrack.iam.operands import (
    Cmp,
    binary_values,
    bool_values,
    booleans,
    ip_values,
    ordered_values,
)
from crosstrack.iam.variables import Template, UnresolvedVariable, parse_template
from crosstrack.iam.wildcards import compile_arn_set, compile_glob_set, unmark

Context = Mapping[str, tuple[str, ...]]
ValuePredicate = Callable[[str], bool]


class SetOperator(Enum):
    """The set qualifiers for multivalued keys."""

    NONE = ""
    FOR_ALL_VALUES = "ForAllValues"
    FOR_ANY_VALUE = "ForAnyValue"


class Family(Enum):
    """Operator families; each parses policy values its own way."""

    STRING = "string"
    STRING_IGNORE_CASE = "string-ignore-case"
    STRING_LIKE = "string-like"
    NUMERIC = "numeric"
    DATE = "date"
    BOOL = "bool"
    BINARY = "binary"
    IP = "ip"
    ARN = "arn"
    NULL = "null"


# The numeric and date families take the same six comparisons:
# suffix -> (negated, comparison).
_COMPARISONS: dict[str, tuple[bool, Cmp]] = {
    "Equals": (False, operator.eq),
    "NotEquals": (True, operator.eq),
    "LessThan": (False, operator.lt),
    "LessThanEquals": (False, operator.le),
    "GreaterThan": (False, operator.gt),
    "GreaterThanEquals": (False, operator.ge),
}

# Every other operator, with its negation where it has one: (operator, negation, family).
_PAIRS: tuple[tuple[str, str | None, Family], ...] = (
    ("StringEquals", "StringNotEquals", Family.STRING),
    ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", Family.STRING_IGNORE_CASE),
    ("StringLike", "StringNotLike", Family.STRING_LIKE),
    ("Bool", None, Family.BOOL),
    ("BinaryEquals", None, Family.BINARY),
    ("IpAddress", "NotIpAddress", Family.IP),
    ("ArnEquals", "ArnNotEquals", Family.ARN),
    ("ArnLike", "ArnNotLike", Family.ARN),
    ("Null", None, Family.NULL),
)

# base operator -> (family, negated, comparison for numeric/date families)
_OPERATORS: dict[str, tuple[Family, bool, Cmp | None]] = {
    **{
        name: (family, negated, None)
        for positive, negation, family in _PAIRS
        for name, negated in ((positive, False), (negation, True))
        if name is not None
    },
    **{
        prefix + suffix: (family, negated, cmp)
        for prefix, family in (("Numeric", Family.NUMERIC), ("Date", Family.DATE))
        for suffix, (negated, cmp) in _COMPARISONS.items()
    },
}

#: Every operator name the engine accepts, without qualifiers (for docs and error messages).
OPERATORS: tuple[str, ...] = tuple(_OPERATORS)

_VARIABLE_FAMILIES = {Family.STRING, Family.STRING_IGNORE_CASE, Family.STRING_LIKE, Family.ARN}


ContextTest = Callable[[Context], bool]


@dataclass(frozen=True, slots=True)
class ConditionEntry:
    """One ``operator: {key: values}`` test, compiled."""

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    key: str  # as written
    lookup: str  # lower-cased key
    family: Family
    negated: bool
    if_exists: bool
    set_operator: SetOperator
    null_wants_absent: frozenset[bool]  # Null only: True = "key is absent" satisfies
    static: ValuePredicate | None  # predicate "value matches one policy value" when no variables
    dynamic: _DynamicPredicate | None  # built per request when policy values hold variables
    # the whole test specialised for this entry's family and qualifiers (see _context_test),
    # so the hot path makes one call and no per-request branching on operator details
    test: ContextTest = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "test", _context_test(self))

    def holds(self, context: Context) -> bool:
        """Whether this test is true for ``context``."""
        return self.test(context)

    def values_without_value(self, context: Context) -> tuple[tuple[int, str], ...]:
        """(1-based position, variable) of each policy value whose variable has no value."""
        if self.dynamic is None:
            return ()
        return self.dynamic.unresolved(context)


def _context_test(entry: ConditionEntry) -> ContextTest:
    """The test of one entry against a request context, with its missing-key rule built in.

    A key that is absent (or an empty list): ``Null`` tests exactly that; ``...IfExists`` and
    ``ForAllValues`` hold, ``ForAnyValue`` does not, otherwise a negated operator holds.
    """
    lookup, family, negated = entry.lookup, entry.family, entry.negated
    if_exists, set_operator = entry.if_exists, entry.set_operator
    null_wants_absent = entry.null_wants_absent
    value_test = entry.static if entry.static is not None else entry.dynamic
    if family is Family.NULL:
        return lambda context: (not context.get(lookup)) in null_wants_absent
    assert value_test is not None, "every family but Null has a value test"
    if if_exists or set_operator is SetOperator.FOR_ALL_VALUES:
        when_missing = True
    elif set_operator is SetOperator.FOR_ANY_VALUE:
        when_missing = False
    else:
        when_missing = negated
    # Policy values with variables are resolved only once the key is known to be present.
    static = value_test if not isinstance(value_test, _DynamicPredicate) else None
    build = value_test.build if isinstance(value_test, _DynamicPredicate) else None

    if set_operator is SetOperator.NONE:
        # A multivalued key satisfies a plain operator when any value matches (negated: none).
        def plain(context: Context) -> bool:
            values = context.get(lookup)
            if not values:
                return when_missing
            match = static if static is not None else build(context)  # type: ignore[misc]
            for value in values:
                if match(value):
                    return not negated
            return negated

        return plain

    every = set_operator is SetOperator.FOR_ALL_VALUES

    def qualified(context: Context) -> bool:
        values = context.get(lookup)
        if not values:
            return when_missing
        match = static if static is not None else build(context)  # type: ignore[misc]
        each = [match(value) != negated for value in values]
        return all(each) if every else any(each)

    return qualified


@dataclass(frozen=True, slots=True)
class _DynamicPredicate:
    family: Family
    templates: tuple[str | Template, ...]

    def build(self, context: Context) -> ValuePredicate:
        """The predicate for this request; a value whose variable has no value matches nothing
        (it is left out: "There is no equal or like value")."""
        resolved, _ = self._resolve(context)
        if not resolved:
            return _matches_nothing
        return _string_predicate(self.family, tuple(resolved))

    def unresolved(self, context: Context) -> tuple[tuple[int, str], ...]:
        return tuple(self._resolve(context)[1])

    def _resolve(self, context: Context) -> tuple[list[str], list[tuple[int, str]]]:
        """The values resolved in ``context``, and (1-based position, variable) of the others."""
        resolved: list[str] = []
        missing: list[tuple[int, str]] = []
        for i, t in enumerate(self.templates, 1):
            if not isinstance(t, Template):
                resolved.append(t)
                continue
            try:
                resolved.append(t.resolve(context))
            except UnresolvedVariable as exc:
                missing.append((i, exc.name))
        return resolved, missing


def _matches_nothing(_value: str) -> bool:
    return False


@lru_cache(maxsize=4096)
def _string_predicate(family: Family, values: tuple[str, ...]) -> ValuePredicate:
    if family is Family.STRING:
        exact = frozenset(unmark(v) for v in values)
        return exact.__contains__
    if family is Family.STRING_IGNORE_CASE:
        folded = frozenset(unmark(v).casefold() for v in values)
        return lambda value: value.casefold() in folded
    if family is Family.STRING_LIKE:
        return compile_glob_set(values)
    return compile_arn_set(values)


def parse_operator(name: str, path: str) -> tuple[str, Family, bool, bool, SetOperator, Cmp | None]:
    """Split ``ForAnyValue:StringLikeIfExists`` into its parts, or raise PolicyError."""
    set_operator = SetOperator.NONE
    base = name
    if ":" in name:
        qualifier, base = name.split(":", 1)
        try:
            set_operator = SetOperator(qualifier)
        except ValueError:
            raise PolicyError(
                path, f"unknown set operator {show(qualifier)} (use ForAllValues or ForAnyValue)"
            ) from None
        if set_operator is SetOperator.NONE:
            raise PolicyError(path, f"unknown condition operator {show(name)}")
    if_exists = base.endswith("IfExists")
    if if_exists:
        base = base[: -len("IfExists")]
    spec = _OPERATORS.get(base)
    if spec is None:
        raise PolicyError(path, f"unknown condition operator {show(name)}")
    family, negated, cmp = spec
    if family is Family.NULL and (if_exists or set_operator is not SetOperator.NONE):
        raise PolicyError(path, f"{show(name)}: Null takes no IfExists form and no set operator")
    return base, family, negated, if_exists, set_operator, cmp


def _scalar(value: Any, path: str) -> str:
    # JSON policies may write booleans and numbers unquoted ("aws:SecureTransport": false).
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return value
    raise PolicyError(
        path, f"condition value must be a string, number or boolean, not {show(value)}"
    )


def compile_entry(
    operator_name: str, key: str, raw: Any, *, variables: bool, path: str
) -> ConditionEntry:
    """Compile one operator/key/values triple; ``variables`` is False for Version 2008-10-17."""
    base, family, negated, if_exists, set_operator, cmp = parse_operator(operator_name, path)
    if not isinstance(key, str) or not key:
        raise PolicyError(path, "condition keys must be non-empty strings")
    key_path = f"{path}.{key}"
    raw_list = raw if isinstance(raw, list) else [raw]
    if not raw_list:
        raise PolicyError(key_path, "a condition key needs at least one value")
    texts = tuple(_scalar(v, f"{key_path}[{i}]") for i, v in enumerate(raw_list))
    static: ValuePredicate | None = None
    dynamic: _DynamicPredicate | None = None
    null_wants: frozenset[bool] = frozenset()
    if family in _VARIABLE_FAMILIES:
        static, dynamic = _string_values(family, base, texts, key_path, variables=variables)
    elif family is Family.NULL:
        null_wants = frozenset(t.lower() == "true" for t in booleans(base, texts, key_path))
    elif family is Family.NUMERIC or family is Family.DATE:
        assert cmp is not None
        static = ordered_values(base, cmp, texts, key_path, numeric=family is Family.NUMERIC)
    else:
        static = _COMPILERS[family](base, texts, key_path)
    return ConditionEntry(
        operator=operator_name,
        key=key,
        lookup=key.lower(),
        family=family,
        negated=negated,
        if_exists=if_exists,
        set_operator=set_operator,
        null_wants_absent=null_wants,
        static=static,
        dynamic=dynamic,
    )


def _string_values(
    family: Family, base: str, texts: tuple[str, ...], key_path: str, *, variables: bool
) -> tuple[ValuePredicate | None, _DynamicPredicate | None]:
    if family is Family.ARN:
        for i, t in enumerate(texts):
            if t != "*" and not t.startswith("arn:"):
                raise PolicyError(f"{key_path}[{i}]", f"{base} needs an ARN, not {show(t)}")
    templates = tuple(
        parse_template(t, f"{key_path}[{i}]") if variables else t for i, t in enumerate(texts)
    )
    if any(isinstance(t, Template) for t in templates):
        return None, _DynamicPredicate(family, templates)
    return _string_predicate(family, tuple(str(t) for t in templates)), None


_COMPILERS: dict[Family, Callable[[str, tuple[str, ...], str], ValuePredicate]] = {
    Family.BOOL: bool_values,
    Family.BINARY: binary_values,
    Family.IP: ip_values,
}


def compile_block(block: Any, *, variables: bool, path: str) -> tuple[ConditionEntry, ...]:
    """Compile a whole ``Condition`` object."""
    if not isinstance(block, dict):
        raise PolicyError(path, "Condition must be an object of operator -> {key: values}")
    entries: list[ConditionEntry] = []
    for op_name, keys in block.items():
        op_path = f"{path}.{op_name}"
        if not isinstance(keys, dict) or not keys:
            raise PolicyError(op_path, "a condition operator needs an object of key -> values")
        for key, raw in keys.items():
            entries.append(compile_entry(op_name, key, raw, variables=variables, path=op_path))
    return tuple(entries)
