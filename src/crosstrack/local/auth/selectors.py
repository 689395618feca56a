"""Whether moto would serve another operation, or another resource, than the one admitted.

moto does not take a request's operation and parameters only from where the protocol puts
them: ``BaseResponse`` takes a parameter named ``Action`` before X-Amz-Target or the route,
and ``_get_param`` finds parameters in the form, the URL query, a body that parses as a
query string, or the headers (moto/core/responses.py ``setup_class``). The enforcement
layer classified the request from the protocol's own selector, so a request that gives
moto any other reading is refused before moto sees it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from urllib.parse import parse_qsl, unquote

from crosstrack.local.auth.operations import Classified, json_body, members_of, model


def repeated_keys(*encoded: str | bytes) -> list[str]:
    """The parameter names that occur more than once across the query strings ``encoded``."""
    counts = Counter(
        key
        for text in encoded
        for key, _ in parse_qsl(
            text.decode("utf-8", "replace") if isinstance(text, bytes) else text,
            keep_blank_values=True,
        )
    )
    return sorted(key for key, count in counts.items() if count > 1)


def _misplaced(
    found: Classified, body: bytes, headers: Mapping[str, str], form: list[tuple[str, str]]
) -> list[str]:
    """The URI and query members of a rest-json operation that the request also names in
    its body or headers: moto's ``_get_param`` finds them there (a JSON body, a body that
    parses as a query string, or, with neither a query nor a body, a header of that name),
    while the authorization read the URL (`GET /schedules/s1` with a body
    `{"groupName": "other"}` read another group's schedule)."""
    members = members_of(found.service, found.operation)
    in_url = {
        name_
        for name, member in members.items()
        if member.serialization.get("location") in ("uri", "querystring")
        for name_ in (name, str(member.serialization.get("name") or name))
    }
    named = {key for key, _ in form}
    shape = model(found.service).operation_model(found.operation).input_shape
    if shape is None or not shape.serialization.get("payload"):
        parsed = json_body(body)  # a payload operation's body is a blob moto does not read
        if isinstance(parsed, dict):
            named |= set(parsed)
    named |= {name.title() for name in headers}  # werkzeug's spelling of a header's name
    return sorted(named & in_url)


def selector_conflict(
    found: Classified, *, raw_query: str, body: bytes, headers: Mapping[str, str]
) -> str | None:
    """Why moto could run another operation than ``found`` (or name another resource), else
    None. moto's ``BaseResponse._get_action`` takes a parameter named ``Action`` before
    X-Amz-Target or the route, from the form body, else the URL query, else a body that
    merely parses as a query string, else the headers, the first of repeated values
    (moto/core/responses.py ``setup_class``): so only a query request may carry one, the
    operation it was classified as, once; and its parameters are never repeated."""
    if headers.get("content-type", "").startswith("multipart/"):
        return "a multipart body"  # a form to moto, which then ignores the URL query
    if "gzip" in headers.get("content-encoding", "").lower():
        return "a gzip-encoded body"  # moto gunzips it before it looks for Action
    query = parse_qsl(raw_query, keep_blank_values=True)
    form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    actions = [value for key, value in (*query, *form) if key == "Action"]
    if "action" in headers:
        actions.append(headers["action"])
    if found.protocol.startswith("rest"):
        misplaced = _misplaced(found, body, headers, form)
        if misplaced:
            return f"{found.service}:{found.operation} with {misplaced} outside the URL"
    selector = found.protocol in ("query", "ec2")
    if actions and (not selector or set(actions) != {found.operation}):
        return f"{found.service}:{found.operation} with a parameter Action={actions!r}"
    if selector:
        repeated = repeated_keys(raw_query, body)
        if repeated:
            return f"{found.service}:{found.operation} with repeated parameter(s) {repeated}"
    return None


def undecodable(body: bytes, headers: Mapping[str, str]) -> str | None:
    """Why moto could not decode a (non-S3) request body, else None: moto decodes every
    body as UTF-8 (moto/core/responses.py ``setup_class``), and a UTF-16 JSON body was a
    500. A gzip-encoded body is refused by :func:`selector_conflict` instead."""
    if "gzip" in headers.get("content-encoding", "").lower():
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"the request body is not UTF-8 (byte {exc.start})"
    return None


# moto's BaseResponse.get_region_from_url reads the region from these, in this order, before
# the signature's credential scope (moto/core/responses.py ``region_regex`` and
# ``region_from_useragent_regex``).
_URL_REGION = re.compile(r"\.(?P<region>[^.]+)\.amazonaws\.com")
_AGENT_REGION = re.compile(r"region/(?P<region>[a-z]{2}-[a-z]+-\d)")


def region_conflict(
    *, raw_path: str, raw_query: str, headers: Mapping[str, str], signed_region: str
) -> str | None:
    """Why moto would serve the request in another region than ``signed_region``, else None.

    AWS serves a request in the region of its credential scope; moto takes a region named in
    the URL or the User-Agent first, so such a request would be decided in one region and
    served in another (a key of eu-west-1 decided where it does not exist, on ``*``).
    Not for S3, whose requests moto reads with its own rules (and whose buckets are global).
    """
    url = f"{raw_path}?{raw_query}"
    named = [m["region"] for m in (_URL_REGION.search(url), _URL_REGION.search(unquote(url))) if m]
    if not named:
        agent = _AGENT_REGION.search(headers.get("user-agent", ""))
        named = [agent["region"]] if agent else []
        where = "a User-Agent"
    else:
        where = "a URL"
    wrong = sorted({region for region in named if region != signed_region})
    if wrong:
        return f"{where} naming region {wrong[0]!r} in a request signed for {signed_region!r}"
    return None
