"""Wildcard patterns of the policy language, compiled once into regular expressions.

``*`` matches any run of characters and ``?`` exactly one; every other character, regex
metacharacters included (``+`` in S3 keys, ``.``, ``(``), is literal. Two flavours:

* plain globs (``Action``, ``StringLike``): the whole value, ``*`` crosses everything;
* ARN globs (``Resource``, ``ArnLike``/``ArnEquals``): "each of the six colon-delimited
  components of the ARN is checked separately and each can include wildcards"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN),
  so ``*`` stays inside one of the first five components, while the sixth (the resource part,
  which may itself hold ``:`` and ``/``) lets ``*`` cross ``/`` and ``:``
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).

Policy variables may expand to text holding ``*`` or ``?`` that must stay literal (and the
``${*}``/``${?}`` escapes mean literal characters); callers mark such characters with
:data:`LITERAL_STAR` / :data:`LITERAL_QMARK` before compiling.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

#: Stand-ins for a literal ``*`` / ``?`` inside a pattern (from ``${*}`` or a variable's value).
LITERAL_STAR = "\x00"
LITERAL_QMARK = "\x01"

Matcher = Callable[[str], bool]


def _translate(text: str, star: str, qmark: str) -> str:
    out: list[str] = []
    for ch in text:
        if ch == "*":
            out.append(star)
        elif ch == "?":
            out.append(qmark)
        elif ch == LITERAL_STAR:
            out.append(re.escape("*"))
        elif ch == LITERAL_QMARK:
            out.append(re.escape("?"))
        else:
            out.append(re.escape(ch))
    return "".join(out)


def has_wildcard(pattern: str) -> bool:
    """True if ``pattern`` holds an unescaped ``*`` or ``?``."""
    return "*" in pattern or "?" in pattern


def unmark(pattern: str) -> str:
    """The pattern's text with literal markers turned back into ``*`` and ``?``."""
    return pattern.replace(LITERAL_STAR, "*").replace(LITERAL_QMARK, "?")


def glob_regex(pattern: str) -> str:
    """Regex source for a plain glob (whole-string match)."""
    return _translate(pattern, ".*", ".")


def arn_regex(pattern: str) -> str:
    """Regex source for an ARN glob: wildcards in the first five components stop at ``:``."""
    parts = pattern.split(":", 5)
    if len(parts) < 6:
        if pattern == "*":
            return ".*"
        # Fewer than six components: compared component by component, no wildcard may
        # cross a ':' (so it can never match a full six-part ARN).
        return _translate(pattern, "[^:]*", "[^:]")
    head = [_translate(p, "[^:]*", "[^:]") for p in parts[:5]]
    return ":".join([*head, _translate(parts[5], ".*", ".")])


@lru_cache(maxsize=8192)
def compile_glob(pattern: str, *, ignore_case: bool = False) -> Matcher:
    """A predicate matching whole strings against a plain glob (cached)."""
    if ignore_case:
        return _caseless((pattern,))
    if not has_wildcard(pattern):
        return unmark(pattern).__eq__
    return _fullmatch(re.compile(glob_regex(pattern), re.DOTALL))


@lru_cache(maxsize=8192)
def compile_arn(pattern: str) -> Matcher:
    """A predicate matching ARNs against an ARN glob (case-sensitive, cached)."""
    if not has_wildcard(pattern):
        return unmark(pattern).__eq__
    return _fullmatch(re.compile(arn_regex(pattern), re.DOTALL))


def compile_glob_set(patterns: tuple[str, ...], *, ignore_case: bool = False) -> Matcher:
    """One predicate for "matches any of ``patterns``" (one alternation, one regex call)."""
    if any(p == "*" for p in patterns):
        return lambda _value: True
    if ignore_case:
        return _caseless(patterns)
    if not any(has_wildcard(p) for p in patterns):
        exact = frozenset(unmark(p) for p in patterns)
        return exact.__contains__
    source = "|".join(f"(?:{glob_regex(p)})" for p in patterns)
    return _fullmatch(re.compile(source, re.DOTALL))


def _caseless(patterns: tuple[str, ...]) -> Matcher:
    """Case-insensitive globs: pattern and value compared in one normal form.

    The form is upper-casing then Unicode case folding: folding alone misses dotless i ~ ``I``
    and re.IGNORECASE misses ``ß`` ~ ``SS``, while this one makes every text match its own
    upper-case form. For ASCII (every action name) it is plain lower-casing.
    """
    source = "|".join(f"(?:{glob_regex(_fold(p))})" for p in patterns)
    match = re.compile(source, re.DOTALL).fullmatch
    return lambda value: match(_fold(value)) is not None


def _fold(text: str) -> str:
    return text.upper().casefold()


def compile_action_set(patterns: tuple[str, ...]) -> Matcher:
    """The ``Action``/``NotAction`` predicate: case-insensitive, split by kind of pattern.

    Exact names become one lower-cased set lookup and only the globs go through a regex, so
    the common ``"s3:GetObject"`` costs a hash lookup. Lower-casing equals case-insensitive
    matching here because actions are ASCII (both the policy's and the request's are validated).
    """
    if any(p == "*" for p in patterns):
        return lambda _value: True
    exact = frozenset(unmark(p).lower() for p in patterns if not has_wildcard(p))
    globs = tuple(p for p in patterns if has_wildcard(p))
    if not globs:
        return lambda value: value.lower() in exact
    glob = compile_glob_set(globs, ignore_case=True)
    if not exact:
        return glob
    return lambda value: value.lower() in exact or glob(value)


def compile_arn_set(patterns: tuple[str, ...]) -> Matcher:
    """One predicate for "the ARN matches any of ``patterns``"."""
    if any(p == "*" for p in patterns):
        return lambda _value: True
    if not any(has_wildcard(p) for p in patterns):
        exact = frozenset(unmark(p) for p in patterns)
        return exact.__contains__
    source = "|".join(f"(?:{arn_regex(p)})" for p in patterns)
    return _fullmatch(re.compile(source, re.DOTALL))


def _fullmatch(rx: re.Pattern[str]) -> Matcher:
    match = rx.fullmatch
    return lambda value: match(value) is not None
