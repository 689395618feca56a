"""Operands of the non-string condition operators: numbers, dates, booleans, binary, IPs.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html

Each ``…_values`` function validates a condition's policy values (a :class:`PolicyError` naming
the value's JSON path) and returns the predicate "the request value matches one of them".
A request value of the wrong type (not a number, not a date...) never matches, so a negated
operator holds against it.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

from crosstrack.iam.errors import PolicyError, show

ValuePredicate = Callable[[str], bool]
Cmp = Callable[[float, float], bool]


# Numbers are "an integer or decimal value" (condition operators page, #Conditions_Numeric):
# ASCII digits, an optional sign, point and exponent. Python's float() also takes "1_000",
# " 10 " and non-ASCII (Arabic-Indic) digits, which are no number a policy or an AWS request
# context holds (the engine's reading: a PolicyError in a policy, never a match in a request).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@lru_cache(maxsize=4096)
def _as_number(text: str) -> float | None:
    if _NUMBER.fullmatch(text) is None:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return None if math.isnan(number) or math.isinf(number) else number


@lru_cache(maxsize=4096)
def _as_date(text: str) -> float | None:
    """Seconds since the epoch from ISO 8601 or an epoch number (both accepted by AWS)."""
    number = _as_number(text)
    if number is not None:
        return number
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _as_bytes(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def ordered_values(
    base: str, cmp: Cmp, texts: tuple[str, ...], key_path: str, *, numeric: bool
) -> ValuePredicate:
    """Numeric* and Date* operators: the request value compared with each policy value."""
    parse = _as_number if numeric else _as_date
    limits: list[float] = []
    for i, t in enumerate(texts):
        parsed = parse(t)
        if parsed is None:
            kind = "number" if numeric else "date (ISO 8601 or epoch seconds)"
            raise PolicyError(f"{key_path}[{i}]", f"{base} needs a {kind}, not {show(t)}")
        limits.append(parsed)
    return _ordered_predicate(parse, cmp, tuple(limits))


def booleans(base: str, texts: tuple[str, ...], key_path: str) -> tuple[str, ...]:
    for i, t in enumerate(texts):
        if t.lower() not in ("true", "false"):
            raise PolicyError(f"{key_path}[{i}]", f"{base} needs 'true' or 'false', not {show(t)}")
    return texts


def bool_values(base: str, texts: tuple[str, ...], key_path: str) -> ValuePredicate:
    wanted = frozenset(t.lower() for t in booleans(base, texts, key_path))
    return lambda value: value.lower() in wanted


def binary_values(base: str, texts: tuple[str, ...], key_path: str) -> ValuePredicate:
    blobs = set()
    for i, t in enumerate(texts):
        blob = _as_bytes(t)
        if blob is None:
            raise PolicyError(f"{key_path}[{i}]", f"{base} needs base64, not {show(t)}")
        blobs.add(blob)
    frozen = frozenset(blobs)
    return lambda value: _as_bytes(value) in frozen


def ip_values(base: str, texts: tuple[str, ...], key_path: str) -> ValuePredicate:
    networks = []
    for i, t in enumerate(texts):
        try:
            networks.append(ipaddress.ip_network(t, strict=False))
        except ValueError:
            raise PolicyError(
                f"{key_path}[{i}]", f"{base} needs an IP address or CIDR, not {show(t)}"
            ) from None
    return _ip_predicate(tuple(networks))


def _ordered_predicate(
    parse: Callable[[str], float | None], cmp: Cmp, limits: tuple[float, ...]
) -> ValuePredicate:
    def predicate(value: str) -> bool:
        parsed = parse(value)
        # A request value that is not a number/date never matches (so a negated operator holds).
        return parsed is not None and any(cmp(parsed, limit) for limit in limits)

    return predicate


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=4096)
def _as_address(text: str) -> tuple[int, int] | None:
    """(IP version, address as an integer), or None when ``text`` is not an address."""
    try:
        address = ipaddress.ip_address(text.split("/", 1)[0])
    except ValueError:
        return None
    return address.version, int(address)


def _ip_predicate(networks: tuple[IpNetwork, ...]) -> ValuePredicate:
    # Integers rather than ipaddress objects: the same test ipaddress's ``in`` makes
    # (same version, address & netmask == network address) without its per-call overhead.
    masks = tuple((n.version, int(n.netmask), int(n.network_address)) for n in networks)

    def predicate(value: str) -> bool:
        address = _as_address(value)
        if address is None:
            return False
        version, number = address
        for net_version, netmask, network in masks:
            if version == net_version and number & netmask == network:
                return True
        return False

    return predicate
