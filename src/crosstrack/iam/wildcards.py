"""Wildcard patterns of the policy language, matched in linear time without regular expressions.

``*`` matches any run of characters and ``?`` exactly one; every other character, regex
metacharacters included (``+`` in S3 keys, ``.``, ``(``), is literal. Two flavours:

* plain globs (``Action``, ``StringLike``): the whole value, ``*`` crosses everything;
* ARN globs (``Resource``, ``ArnLike``/``ArnEquals``): "each of the six colon-delimited
  components of the ARN is checked separately and each can include wildcards"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN),
  so ``*`` stays inside one of the first five components, while the sixth (the resource part,
  which may itself hold ``:`` and ``/``) lets ``*`` cross ``/`` and ``:``
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
  In ``Resource``/``NotResource`` one more rule of that page holds: "If the * wildcard is the
  last character of a resource ARN segment, it can expand to match beyond the colon
  boundaries" (``arn:aws:lambda:*:function:f`` matches every region *and* account), while a
  ``*`` with text after it in its segment stays in it; ``ArnLike`` keeps the condition
  operators page's "each of the six colon-delimited components ... is checked separately".

Why no regular expressions: a signed caller picks the resource (an S3 key), and a backtracking
regex for ``a*a*a*…b`` takes time exponential in the number of stars (issue 9: 20 stars against
a 1,024-character key never finished). Here a pattern is split at its stars into fixed-length
segments (literal text and ``?``); the first must match at the start, the last at the end, and
each one between is taken at its leftmost place after the previous one. Leftmost is always
right, because a star can absorb whatever a later choice would have skipped. Each segment is
found with ``str.find`` on its first literal piece, so a match costs O(len(value) * len(pattern))
at worst and O(len(value)) for the usual patterns — never more, whatever the pattern.

Policy variables may expand to text holding ``*`` or ``?`` that must stay literal (and the
``${*}``/``${?}`` escapes mean literal characters); callers mark such characters with
:data:`LITERAL_STAR` / :data:`LITERAL_QMARK` before compiling.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from functools import lru_cache, partial

#: Stand-ins for a literal ``*`` / ``?`` inside a pattern (from ``${*}`` or a variable's value).
LITERAL_STAR = "\x00"
LITERAL_QMARK = "\x01"

Matcher = Callable[[str], bool]

# A segment: the text between two stars, as (length, pieces); each piece is (offset, literal
# text), and the positions no piece covers are ``?`` (any one character).
_Segment = tuple[int, tuple[tuple[int, str], ...]]


def has_wildcard(pattern: str) -> bool:
    """True if ``pattern`` holds an unescaped ``*`` or ``?``."""
    return "*" in pattern or "?" in pattern


def unmark(pattern: str) -> str:
    """The pattern's text with literal markers turned back into ``*`` and ``?``."""
    return pattern.replace(LITERAL_STAR, "*").replace(LITERAL_QMARK, "?")


def _segment(text: str) -> _Segment:
    """One star-free part of a pattern: its length and its literal pieces."""
    pieces: list[tuple[int, str]] = []
    start = 0
    for i, ch in enumerate(text):
        if ch == "?":
            if i > start:
                pieces.append((start, unmark(text[start:i])))
            start = i + 1
    if start < len(text):
        pieces.append((start, unmark(text[start:])))
    return len(text), tuple(pieces)


def _segments(pattern: str) -> tuple[_Segment, ...]:
    return tuple(_segment(part) for part in pattern.split("*"))


def _at(value: str, pos: int, pieces: tuple[tuple[int, str], ...]) -> bool:
    """Whether a segment's literal pieces sit at ``pos`` (the caller checked the length)."""
    return all(value.startswith(text, pos + offset) for offset, text in pieces)


def _find(value: str, start: int, end: int, segment: _Segment) -> int:
    """The leftmost ``pos >= start`` where ``segment`` matches within ``value[:end]``, or -1."""
    length, pieces = segment
    last = end - length  # the last place the segment can start
    if not pieces:
        return start if start <= last else -1
    offset, text = pieces[0]
    rest = pieces[1:]
    pos = start
    while pos <= last:
        found = value.find(text, pos + offset, last + offset + len(text))
        if found < 0:
            return -1
        pos = found - offset
        if _at(value, pos, rest):
            return pos
        pos += 1
    return -1


def _glob_match(segments: tuple[_Segment, ...], value: str) -> bool:
    """Whether ``value`` matches the star-separated ``segments`` as a whole (linear scan)."""
    n = len(value)
    first = segments[0]
    if len(segments) == 1:
        return n == first[0] and _at(value, 0, first[1])
    last = segments[-1]
    end = n - last[0]
    if end < first[0] or not _at(value, 0, first[1]) or not _at(value, end, last[1]):
        return False
    pos = first[0]
    for segment in segments[1:-1]:
        found = _find(value, pos, end, segment)
        if found < 0:
            return False
        pos = found + segment[0]
    return True


def _always(_value: str) -> bool:
    return True


def _never(_value: str) -> bool:
    return False


def _glob(pattern: str) -> Matcher:
    """The cheapest predicate for one plain glob (case-sensitive)."""
    if pattern == "*":
        return _always
    if not has_wildcard(pattern):
        return unmark(pattern).__eq__
    head, star, tail = pattern.partition("*")
    if star and tail == "" and not has_wildcard(head):
        return _prefix(unmark(head))
    if star and head == "" and not has_wildcard(tail):
        text = unmark(tail)
        return lambda value: value.endswith(text)
    if "?" not in pattern:
        return partial(_star_match, tuple(unmark(part) for part in pattern.split("*")))
    return partial(_glob_match, _segments(pattern))


def _star_match(parts: tuple[str, ...], value: str) -> bool:
    """:func:`_glob_match` for patterns without ``?`` (the usual kind): literal parts only."""
    first = parts[0]
    last = parts[-1]
    end = len(value) - len(last)
    if end < len(first) or not value.startswith(first) or not value.endswith(last):
        return False
    pos = len(first)
    for part in parts[1:-1]:
        found = value.find(part, pos, end)
        if found < 0:
            return False
        pos = found + len(part)
    return True


def _prefix(prefix: str | tuple[str, ...]) -> Matcher:
    return lambda value: value.startswith(prefix)


def _component_match(components: tuple[Matcher, ...], value: str) -> bool:
    """An ARN glob of fewer than six components: as many components, each its own glob."""
    parts = value.split(":")
    if len(parts) != len(components):
        return False
    return all(match(part) for match, part in zip(components, parts, strict=True))


def _arn_match(head: tuple[Matcher, ...], resource: Matcher, value: str) -> bool:
    parts = value.split(":", 5)
    if len(parts) != 6:
        return False
    for match, part in zip(head, parts, strict=False):
        if not match(part):
            return False
    return resource(parts[5])


def _arn(pattern: str) -> Matcher:
    """The cheapest predicate for one ARN glob (case-sensitive)."""
    if pattern == "*":
        return _always
    if not has_wildcard(pattern):
        return unmark(pattern).__eq__
    parts = pattern.split(":", 5)
    if len(parts) < 6:
        # Fewer than six components: compared component by component, no wildcard may
        # cross a ':' (so it can never match a full six-part ARN).
        return partial(_component_match, tuple(_glob(p) for p in pattern.split(":")))
    if not any(has_wildcard(p) for p in parts[:5]):
        # The usual case: wildcards only in the resource part, after a literal prefix.
        prefix = unmark(":".join(parts[:5])) + ":"
        rest = _glob(parts[5])
        if not has_wildcard(parts[5][:-1]) and parts[5].endswith("*"):
            return _prefix(prefix + unmark(parts[5][:-1]))
        cut = len(prefix)
        return lambda value: value.startswith(prefix) and rest(value[cut:])
    # Each of the first five components is matched on its own (their values hold no ':').
    return partial(_arn_match, tuple(_glob(p) for p in parts[:5]), _glob(parts[5]))


def _free_resource(pattern: str) -> Matcher | None:
    """The Resource matcher of a pattern where a ``*`` ends one of the first five segments
    (and may so "expand to match beyond the colon boundaries"), or None when none does."""
    parts = pattern.split(":", 5)
    if len(parts) < 6 or not any(p.endswith("*") for p in parts[:5]):
        return None
    segments = tuple(
        (p.endswith("*"), _glob(p) if not p.endswith("*") else _glob(p[:-1] + "*"))
        for p in parts[:5]
    )
    return partial(_free_match, segments, _glob(parts[5]))


def _free_match(segments: tuple[tuple[bool, Matcher], ...], rest: Matcher, value: str) -> bool:
    """Segments matched left to right; after a segment ending in a free ``*`` the next one may
    start after any later ``:``. Each (segment, start) is tried at most once, and after a free
    ``*`` the colons already tried are never tried again (a later start can reach only a
    subset of them), so the cost stays O(segments x colons x len(value)) whatever the pattern
    (the reason this is not a backtracking regex: see the module's docstring)."""
    colons = [i for i, ch in enumerate(value) if ch == ":"]
    failed: set[tuple[int, int]] = set()
    # per free segment: the index in ``colons`` from which every later start already failed
    tried_from = [len(colons)] * len(segments)

    def match(k: int, pos: int) -> bool:
        if k == len(segments):
            return rest(value[pos:])
        if (k, pos) in failed:
            return False
        free, glob = segments[k]
        end = value.find(":", pos)
        # The segment's text up to the next ':' (a free * may then absorb more, ':' included).
        if end >= 0 and glob(value[pos:end]):
            if not free:
                if match(k + 1, end + 1):
                    return True
            else:
                first = bisect_left(colons, end)
                for i in range(first, tried_from[k]):
                    if match(k + 1, colons[i] + 1):
                        return True
                tried_from[k] = min(tried_from[k], first)
        failed.add((k, pos))
        return False

    return match(0, 0)


def _is_prefix(pattern: str, *, arn: bool) -> bool:
    """Whether ``pattern`` is literal text then one final ``*`` (a ``startswith`` test)."""
    if not pattern.endswith("*") or has_wildcard(pattern[:-1]):
        return False
    # An ARN pattern is a plain prefix only once the first five components are literal.
    return not arn or pattern.count(":") >= 5


def _set(patterns: tuple[str, ...], one: Callable[[str], Matcher], *, arn: bool) -> Matcher:
    """One predicate for "matches any of ``patterns``": a set lookup for the literal ones, one
    ``startswith`` call for the prefixes, then the others one by one."""
    if "*" in patterns:
        return _always
    exact = frozenset(unmark(p) for p in patterns if not has_wildcard(p))
    prefixes = tuple(unmark(p[:-1]) for p in patterns if _is_prefix(p, arn=arn))
    others = tuple(one(p) for p in patterns if has_wildcard(p) and not _is_prefix(p, arn=arn))
    if not others:
        if not prefixes:
            return exact.__contains__ if exact else _never
        if not exact:
            return _prefix(prefixes)
        return lambda value: value in exact or value.startswith(prefixes)

    def match(value: str) -> bool:
        if value in exact or (prefixes and value.startswith(prefixes)):
            return True
        return any(other(value) for other in others)

    return match


@lru_cache(maxsize=8192)
def compile_glob(pattern: str, *, ignore_case: bool = False) -> Matcher:
    """A predicate matching whole strings against a plain glob (cached)."""
    if ignore_case:
        return _caseless((pattern,))
    return _glob(pattern)


@lru_cache(maxsize=8192)
def compile_arn(pattern: str) -> Matcher:
    """A predicate matching ARNs against an ARN glob (case-sensitive, cached)."""
    return _arn(pattern)


def compile_glob_set(patterns: tuple[str, ...], *, ignore_case: bool = False) -> Matcher:
    """One predicate for "matches any of ``patterns``" (plain globs)."""
    if ignore_case:
        return _caseless(patterns)
    return _set(patterns, _glob, arn=False)


def _caseless(patterns: tuple[str, ...]) -> Matcher:
    """Case-insensitive globs: pattern and value compared in one normal form.

    The form is upper-casing then Unicode case folding: folding alone misses dotless i ~ ``I``
    and lower-casing misses ``ß`` ~ ``SS``, while this one makes every text match its own
    upper-case form. For ASCII (every action name) it is plain lower-casing.
    """
    if "*" in patterns:
        return _always
    match = _set(tuple(_fold(p) for p in patterns), _glob, arn=False)
    return lambda value: match(_fold(value))


def _fold(text: str) -> str:
    return text.upper().casefold()


def compile_action_set(patterns: tuple[str, ...]) -> Matcher:
    """The ``Action``/``NotAction`` predicate: case-insensitive.

    Lower-casing equals case-insensitive matching here because actions are ASCII (both the
    policy's and the request's are validated), so the common ``"s3:GetObject"`` costs a hash
    lookup and ``"s3:Get*"`` one ``startswith``.
    """
    if "*" in patterns:
        return _always
    match = _set(tuple(p.lower() for p in patterns), _glob, arn=False)
    return lambda value: match(value.lower())


def compile_arn_set(patterns: tuple[str, ...]) -> Matcher:
    """One predicate for "the ARN matches any of ``patterns``" (``ArnLike``/``ArnEquals``)."""
    return _set(patterns, _arn, arn=True)


def _resource(pattern: str) -> Matcher:
    return _free_resource(pattern) or _arn(pattern)


@lru_cache(maxsize=8192)
def compile_resource(pattern: str) -> Matcher:
    """A predicate for one ``Resource``/``NotResource`` entry (cached): an ARN glob whose
    segment-ending ``*`` may cross ``:``."""
    return _resource(pattern)


def compile_resource_set(patterns: tuple[str, ...]) -> Matcher:
    """One predicate for "the resource matches any of these Resource entries"."""
    return _set(patterns, _resource, arn=True)
