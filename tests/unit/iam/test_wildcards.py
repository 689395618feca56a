"""Wildcard matching: the linear-time matcher agrees with a plain reference matcher (issue 9).

The reference is the textbook dynamic programme over (pattern position, value position): slow,
obviously right, and independent of the engine's segment-and-find algorithm.
"""

from __future__ import annotations

import re
import time
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from crosstrack.iam import simulate
from crosstrack.iam.wildcards import (
    LITERAL_QMARK,
    LITERAL_STAR,
    compile_action_set,
    compile_arn,
    compile_arn_set,
    compile_glob,
    compile_glob_set,
    compile_resource,
)

MANY = settings(max_examples=400, deadline=None)

# regex metacharacters, both wildcards, both literal markers, ARN separators, case pairs
PATTERN_ALPHABET = "aAb.+()[]^$\\|{}:/*?" + LITERAL_STAR + LITERAL_QMARK
VALUE_ALPHABET = "aAb.+()[]^$\\|{}:/*?\n"


def reference(pattern: str, value: str, *, arn: bool = False) -> bool:
    """Does ``value`` match ``pattern``? ``arn``: wildcards before the fifth ':' (all of them
    when the pattern has fewer than five) never match a ':'."""
    if arn and pattern == "*":
        return True
    fifth = -1
    if arn:
        colons = [i for i, c in enumerate(pattern) if c == ":"]
        fifth = colons[4] if len(colons) >= 5 else len(pattern)

    @cache
    def match(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(value)
        token = pattern[i]
        restricted = i < fifth
        if token == "*":
            if match(i + 1, j):
                return True
            return j < len(value) and not (restricted and value[j] == ":") and match(i, j + 1)
        if j == len(value):
            return False
        if token == "?":
            return not (restricted and value[j] == ":") and match(i + 1, j + 1)
        literal = {LITERAL_STAR: "*", LITERAL_QMARK: "?"}.get(token, token)
        return value[j] == literal and match(i + 1, j + 1)

    return match(0, 0)


def _fold(text: str) -> str:
    return text.upper().casefold()


patterns = st.text(alphabet=PATTERN_ALPHABET, max_size=12)
values = st.text(alphabet=VALUE_ALPHABET, max_size=16)


@st.composite
def near_matches(draw: st.DrawFn) -> tuple[str, str]:
    """A pattern and a value built from it (so that matches are common, not rare)."""
    pattern = draw(patterns)
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(draw(st.text(alphabet=VALUE_ALPHABET, max_size=4)))
        elif ch == "?":
            out.append(draw(st.sampled_from(VALUE_ALPHABET)))
        else:
            out.append({LITERAL_STAR: "*", LITERAL_QMARK: "?"}.get(ch, ch))
    value = "".join(out)
    if draw(st.booleans()) and value:
        i = draw(st.integers(0, len(value) - 1))
        value = value[:i] + draw(st.sampled_from(VALUE_ALPHABET)) + value[i + 1 :]
    return pattern, value


pairs = st.one_of(st.tuples(patterns, values), near_matches())


@MANY
@given(pairs)
def test_plain_globs_agree_with_the_reference(pair: tuple[str, str]) -> None:
    pattern, value = pair
    assert compile_glob(pattern)(value) is reference(pattern, value)


@MANY
@given(pairs)
def test_arn_globs_agree_with_the_reference(pair: tuple[str, str]) -> None:
    pattern, value = pair
    for prefix in ("", "arn:aws:s3:::", "arn:*:s3:", "arn:aws:iam::*:role/"):
        assert compile_arn(prefix + pattern)(prefix + value) is reference(
            prefix + pattern, prefix + value, arn=True
        ), prefix


@MANY
@given(pairs)
def test_case_insensitive_globs_agree_with_the_reference(pair: tuple[str, str]) -> None:
    pattern, value = pair
    expected = reference(_fold(pattern), _fold(value))
    assert compile_glob(pattern, ignore_case=True)(value) is expected
    assert compile_glob_set((pattern,), ignore_case=True)(value.swapcase()) is reference(
        _fold(pattern), _fold(value.swapcase())
    )


@MANY
@given(st.lists(patterns, min_size=1, max_size=4), values)
def test_sets_match_when_any_pattern_does(group: list[str], value: str) -> None:
    assert compile_glob_set(tuple(group))(value) is any(reference(p, value) for p in group)
    arns = tuple("arn:aws:s3:::" + p for p in group)
    assert compile_arn_set(arns)("arn:aws:s3:::" + value) is any(
        reference(p, "arn:aws:s3:::" + value, arn=True) for p in arns
    )


@MANY
@given(
    st.lists(st.text(alphabet="sSqQ3:gGeEtT*?-", min_size=1, max_size=10), min_size=1, max_size=3),
    st.text(alphabet="sSqQ3:gGeEtT-", min_size=1, max_size=12),
)
def test_actions_match_case_insensitively(group: list[str], action: str) -> None:
    expected = any(reference(p.lower(), action.lower()) for p in group)
    assert compile_action_set(tuple(group))(action) is expected
    assert compile_action_set(tuple(group))(action.swapcase()) is expected


def test_a_star_crosses_slashes_and_colons_only_in_the_resource_part() -> None:
    assert compile_arn("arn:aws:s3:::b/*")("arn:aws:s3:::b/x/y:z")
    assert compile_arn("arn:aws:s3:::b/*/z")("arn:aws:s3:::b/x/y/z")
    assert not compile_arn("arn:aws:iam::*:role/app")("arn:aws:iam::1:2:role/app")
    assert compile_arn("arn:aws:iam::*:role/app")("arn:aws:iam::111122223333:role/app")
    # four colons: the star is in the fifth component, so it stops at ':'
    assert not compile_arn("arn:aws:s3::b*")("arn:aws:s3::b:x")
    assert not compile_arn_set(("arn:aws:s3::b*", "arn:x"))("arn:aws:s3::b:x")
    assert compile_arn_set(("arn:aws:s3::b*", "arn:x"))("arn:aws:s3::bx")


def test_many_stars_against_a_long_key_answer_correctly() -> None:
    # Issue 9: a backtracking regex took 0.7 s at 40 characters, doubling with each one.
    pattern = "arn:aws:s3:::b/a*a*a*a*a*a*a*a*a*b"
    key = "arn:aws:s3:::b/" + "a" * 5000
    assert not compile_arn(pattern)(key)
    assert compile_arn(pattern)(key + "b")
    assert not compile_glob("*a" * 20 + "b")("a" * 1024)
    assert compile_glob("*a" * 20 + "b")("a" * 1024 + "b")
    case = {
        "request": {
            "principal": "arn:aws:iam::111122223333:user/alice",
            "action": "s3:GetObject",
            "resource": key,
            "resource_account": "111122223333",
            "context": {"s3:prefix": "a" * 5000},
        },
        "identity_policies": [
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": pattern,
                    },
                    {
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": "*",
                        "Condition": {"StringLike": {"s3:prefix": "a*a*a*a*a*a*a*a*a*b"}},
                    },
                ],
            }
        ],
    }
    assert simulate(case)["decision"] == "implicitDeny"
    case["request"]["resource"] = key + "b"
    assert simulate(case)["decision"] == "allowed"


def resource_reference(pattern: str, value: str) -> bool:
    """The Resource page's rule as a regular expression (small inputs only): in the first five
    segments ``?`` and a ``*`` followed by more text stay inside the segment, a ``*`` ending a
    segment may "expand to match beyond the colon boundaries"; in the resource part both
    cross everything."""
    if pattern == "*":
        return True
    parts = pattern.split(":", 5)
    out = []
    for n, part in enumerate(parts):
        last = n == len(parts) - 1 and len(parts) == 6
        pieces = []
        for i, ch in enumerate(part):
            if ch == "*":
                pieces.append(".*" if last or i == len(part) - 1 else "[^:]*")
            elif ch == "?":
                pieces.append("." if last else "[^:]")
            else:
                literal = {LITERAL_STAR: "*", LITERAL_QMARK: "?"}.get(ch, ch)
                pieces.append(re.escape(literal))
        out.append("".join(pieces))
    return re.fullmatch(":".join(out), value, re.DOTALL) is not None


SEGMENT = st.text(alphabet="ab*?:/", max_size=5)


@MANY
@given(
    st.lists(st.text(alphabet="ab*?/", max_size=4), min_size=5, max_size=5),
    SEGMENT,
    st.text(alphabet="ab:/", max_size=16),
)
def test_resource_globs_agree_with_the_resource_page(
    head: list[str], resource: str, value: str
) -> None:
    pattern = ":".join([*head, resource])
    value = "arn:" + value if head[0] == "arn" else value
    assert compile_resource(pattern)(value) is resource_reference(pattern, value), (pattern, value)


def test_a_segment_ending_star_crosses_colons_in_resources_only() -> None:
    function = "arn:aws:lambda:us-east-1:111122223333:function:f"
    assert compile_resource("arn:aws:lambda:*:function:f")(function)
    assert not compile_arn("arn:aws:lambda:*:function:f")(function)  # ArnLike: per component
    assert not compile_resource("arn:aws:sqs:us-*-2:1:q")("arn:aws:sqs:us-x:y-2:1:q")


def test_segment_ending_stars_stay_fast_on_hostile_values() -> None:
    # every free * could restart the next segment after any ':': each start is tried once
    value = "arn:a" + ":" * 1024 + "b"
    started = time.perf_counter()
    assert not compile_resource("arn:*:*:*:*:zz")(value)
    assert not compile_resource("arn:a*:s3:*:*:*a*a*a*a*b")(value)
    assert time.perf_counter() - started < 0.2
