"""Closed world: every request is exactly one (service, operation) of botocore's models, or none.

The service models botocore ships are the SDKs' own description of each API, so they say
precisely how a request names its operation, per protocol
(https://smithy.io/2.0/aws/protocols/index.html):

* ``rest-xml`` / ``rest-json`` (S3, Lambda, Scheduler): HTTP method + request-URI template
  (labels, greedy ``{Key+}`` labels) + the query keys the template requires (``?uploads``,
  ``?list-type=2``; ``x-id`` is informative only);
* ``query`` / ``ec2`` (IAM, STS, SNS, CloudWatch): the ``Action`` parameter;
* ``json`` (KMS, Logs, EventBridge, SQS, CloudWatch): ``X-Amz-Target: <prefix>.<Operation>``;
* ``smithy-rpc-v2-cbor`` (CloudWatch's first protocol): ``POST
  /service/<service shape>/operation/<Operation>`` with ``smithy-protocol: rpc-v2-cbor``.

The route table is built once per service from the installed models (a few ms each) and
cached. A request that matches no operation, or more than one equally well, is *not
classified*: the enforcement layer refuses it before moto sees it. Pure functions; no moto.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

# Signing name (the credential scope's service) -> botocore service model.
SERVED: dict[str, str] = {
    "s3": "s3",
    "sts": "sts",
    "iam": "iam",
    "lambda": "lambda",
    "logs": "logs",
    "monitoring": "cloudwatch",
    "scheduler": "scheduler",
    "sqs": "sqs",
    "kms": "kms",
    "events": "events",
    "sns": "sns",
}

# Query keys that carry a presigned URL's signature, never an operation's input.
SIGNING_QUERY_KEYS = frozenset(
    {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
        "x-id",
    }
)


@dataclass(frozen=True)
class Route:
    """How one rest operation is addressed."""

    operation: str
    method: str
    segments: tuple[str, ...]  # literal text, "{Label}" or "{Label+}"
    required: tuple[tuple[str, str | None], ...]  # query key, required value (None: any)
    deprecated: bool
    required_headers: tuple[str, ...] = ()  # lower-case names of required header members

    @property
    def selectors(self) -> int:
        return len(self.required) + len(self.required_headers)

    @property
    def literal_count(self) -> int:
        return sum(1 for s in self.segments if not s.startswith("{"))


@dataclass(frozen=True)
class Classified:
    """A request recognised as one operation, with its input members by model name."""

    service: str  # botocore service name: s3, cloudwatch, lambda, …
    operation: str
    protocol: str
    params: dict[str, Any] = field(default_factory=dict)
    unknown_query: tuple[str, ...] = ()  # rest protocols: query keys the operation lacks


@dataclass(frozen=True)
class Unclassified:
    """Why a request is no operation of a served service (for the audit log)."""

    service: str | None
    reason: str


@functools.cache
def model(service: str) -> Any:
    """botocore's ServiceModel for a served service (loaded once)."""
    return _session().get_service_model(service)


@functools.cache
def _session() -> Any:
    import botocore.session

    return botocore.session.get_session()


def protocols(service: str) -> tuple[str, ...]:
    metadata = model(service).metadata
    listed = metadata.get("protocols") or [metadata["protocol"]]
    return tuple(str(p) for p in listed)


def _parse_uri(uri: str) -> tuple[tuple[str, ...], tuple[tuple[str, str | None], ...]]:
    path, _, query = uri.partition("?")
    segments = tuple(path.split("/")[1:]) if path != "/" else ()
    required: list[tuple[str, str | None]] = []
    for part in query.split("&") if query else []:
        key, sep, value = part.partition("=")
        if key != "x-id":
            required.append((key, value if sep else None))
    return segments, tuple(required)


@functools.cache
def routes(service: str) -> tuple[Route, ...]:
    """Every rest operation of ``service`` as a route (built once, cached)."""
    service_model = model(service)
    built = []
    for name in service_model.operation_names:
        operation = service_model.operation_model(name)
        segments, required = _parse_uri(str(operation.http["requestUri"]))
        # A required query or header member selects the operation as much as the URI
        # does: ?uploadId makes DeleteObject AbortMultipartUpload, x-amz-copy-source makes
        # PutObject CopyObject.
        shape = operation.input_shape
        mandatory = set(shape.required_members) if shape is not None else set()
        headers: list[str] = []
        for member_name in sorted(mandatory):
            member = shape.members[member_name]
            location = member.serialization.get("location")
            wire_name = str(member.serialization.get("name") or member_name)
            if location == "querystring" and wire_name not in dict(required):
                required = (*required, (wire_name, None))
            elif location == "header":
                headers.append(wire_name.lower())
        built.append(
            Route(
                operation=name,
                method=str(operation.http["method"]).upper(),
                segments=segments,
                required=required,
                deprecated=bool(operation.deprecated),
                required_headers=tuple(headers),
            )
        )
    return tuple(built)


def _match_path(segments: tuple[str, ...], parts: list[str]) -> dict[str, str] | None:
    labels: dict[str, str] = {}
    for index, template in enumerate(segments):
        if template.startswith("{") and template.endswith("+}"):
            rest = "/".join(parts[index:])
            if not rest:
                return None
            labels[template[1:-2]] = rest
            return labels
        if index >= len(parts):
            return None
        if template.startswith("{") and template.endswith("}"):
            if not parts[index]:
                return None
            labels[template[1:-1]] = parts[index]
        elif template != parts[index]:
            return None
    return labels if len(parts) == len(segments) else None


def _selected(route: Route, query: Mapping[str, str], headers: Mapping[str, str]) -> bool:
    return all(
        key in query and (value is None or query[key] == value) for key, value in route.required
    ) and all(name in headers for name in route.required_headers)


def match_rest(
    service: str,
    method: str,
    path_parts: list[str],
    query: Mapping[str, str],
    *,
    headers: Mapping[str, str],
    served: frozenset[str] | None = None,
) -> tuple[Route, dict[str, str]] | Unclassified:
    """The one route a rest request takes: most literal segments, then most required
    query keys and headers; a deprecated duplicate (``GetBucketLifecycle``) yields to the
    current one. With ``served``, only those operations are candidates."""
    candidates = []
    for route in routes(service):
        if served is not None and route.operation not in served:
            continue
        if route.method != method.upper() or not _selected(route, query, headers):
            continue
        labels = _match_path(route.segments, path_parts)
        if labels is not None:
            candidates.append((route, labels))
    if not candidates:
        return Unclassified(service, f"no {service} operation is {method} with this path/query")

    def rank(item: tuple[Route, dict[str, str]]) -> tuple[int, int, int]:
        route = item[0]
        return (route.literal_count, route.selectors, 0 if route.deprecated else 1)

    candidates.sort(key=rank, reverse=True)
    best = rank(candidates[0])
    tied = [c for c in candidates if rank(c) == best]
    if len(tied) > 1:
        names = ", ".join(sorted(r.operation for r, _ in tied))
        return Unclassified(service, f"the request matches several {service} operations: {names}")
    return candidates[0]


def members_of(service: str, operation: str) -> dict[str, Any]:
    shape = model(service).operation_model(operation).input_shape
    return dict(shape.members) if shape is not None else {}


def rest_params(
    service: str,
    operation: str,
    *,
    labels: Mapping[str, str],
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Input members of a rest request by model name, and the query keys it does not model."""
    params: dict[str, Any] = {}
    parsed: Any = None
    known = set(SIGNING_QUERY_KEYS) | {key for key, _ in _route(service, operation).required}
    for name, member in members_of(service, operation).items():
        location = member.serialization.get("location")
        wire_name = str(member.serialization.get("name") or name)
        if location == "uri":
            if wire_name in labels:
                params[name] = unquote(labels[wire_name])
        elif location == "querystring":
            known.add(wire_name)
            if wire_name in query:
                params[name] = query[wire_name]
        elif location == "header":
            if wire_name.lower() in headers:
                params[name] = headers[wire_name.lower()]
        elif location is None and service != "s3":
            if parsed is None:
                parsed = json_body(body)
            if isinstance(parsed, dict) and wire_name in parsed:
                params[name] = parsed[wire_name]
    unknown = tuple(sorted(key for key in query if key not in known))
    return params, unknown


def _route(service: str, operation: str) -> Route:
    return next(r for r in routes(service) if r.operation == operation)


class JsonTooDeep(Exception):
    """A JSON body nested deeper than Python's parser recurses (moto would crash on it)."""


def json_body(body: bytes) -> Any:
    try:
        return json.loads(body or b"{}")
    except RecursionError:
        raise JsonTooDeep from None
    except ValueError:
        return {}


def query_params(raw_query: str, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
    """The flat parameters of a query-protocol request (URL query and form body)."""
    params = dict(parse_qsl(raw_query, keep_blank_values=True))
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def classify_rpc(  # noqa: PLR0911 - one answer per protocol and failure
    service: str,
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> Classified | Unclassified:
    """A request to a query, json or cbor service: the first of the service's protocols
    (in the model's order) whose selector the request carries decides."""
    service_model = model(service)
    names = set(service_model.operation_names)
    target = headers.get("x-amz-target")
    for protocol in protocols(service):
        if protocol in ("query", "ec2"):
            if target is not None:
                continue
            params = query_params(raw_query, body, headers)
            action = params.get("Action")
            if action is None:
                continue
            if action not in names or method.upper() not in ("GET", "POST"):
                return Unclassified(service, f"{action!r} is not a {service} operation")
            return Classified(service, action, protocol, dict(params))
        if protocol == "json" and target is not None:
            prefix = str(service_model.metadata.get("targetPrefix"))
            head, _, operation = target.rpartition(".")
            if head != prefix or operation not in names:
                return Unclassified(
                    service, f"X-Amz-Target {target!r} is not a {service} operation"
                )
            if method.upper() != "POST" or raw_path != "/":
                return Unclassified(service, f"{target} must be a POST to /")
            parsed = json_body(body)
            return Classified(
                service, operation, protocol, parsed if isinstance(parsed, dict) else {}
            )
        if protocol == "smithy-rpc-v2-cbor" and headers.get("smithy-protocol") == "rpc-v2-cbor":
            shape = service_model.metadata.get("targetPrefix") or service_model.service_name
            parts = raw_path.split("/")
            if (
                len(parts) == 5
                and parts[1:3] == ["service", str(shape)]
                and parts[3] == "operation"
                and parts[4] in names
                and method.upper() == "POST"
            ):
                # Classified for the audit log; moto cannot decode CBOR (see the enforcer).
                return Classified(service, parts[4], protocol, {})
            return Unclassified(service, f"{raw_path} is not a {service} rpc-v2-cbor operation")
    return Unclassified(service, f"the request names no {service} operation")


def classify_rest(
    service: str,
    *,
    method: str,
    raw_path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    served: frozenset[str] | None = None,
) -> Classified | Unclassified:
    """A request to a rest-json service (Lambda, Scheduler) by method, path and query."""
    parts = (raw_path or "/").split("/")[1:]
    if parts == [""]:
        parts = []
    found = match_rest(service, method, parts, query, headers=headers, served=served)
    if isinstance(found, Unclassified):
        return found
    route, labels = found
    params, unknown = rest_params(
        service, route.operation, labels=labels, query=query, headers=headers, body=body
    )
    return Classified(service, route.operation, protocols(service)[0], params, unknown)
