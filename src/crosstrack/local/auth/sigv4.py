"""Signature Version 4: parse what a client signed and verify it, from the raw request.

crosstrack verifies signatures itself instead of reusing moto's check, which rebuilds the
request from parsed parameters and, for a request without a body, signs the headers moto
copied into its query dict instead of the empty payload the client signed (field-notes:
every REST-JSON GET failed). Here the canonical request is built from the bytes on the wire,
following https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
(header form) and https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
(presigned URLs). Pure functions: no moto, no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote, unquote_to_bytes

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_WHITESPACE = re.compile(r"\s+")


SIGV4A = "AWS4-ECDSA-P256-SHA256"


class MalformedAuthorization(ValueError):
    """The request claims SigV4 but its authorization data cannot be parsed."""


class SigV4aNotSupported(ValueError):
    """The request is signed with SigV4a (multi-region, ECDSA), which the local AWS refuses."""


class SigV2NotSupported(ValueError):
    """The request is signed with Signature Version 2, which S3 refuses for buckets created
    after June 24, 2020 (https://docs.aws.amazon.com/AmazonS3/latest/API/Appendix-Sigv2.html)
    — every bucket of the local AWS is such a bucket."""


@dataclass(frozen=True)
class SignedRequest:
    """What the client says it signed, and with which key."""

    access_key_id: str
    scope_date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    session_token: str | None
    presigned: bool
    expires_seconds: int | None = None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _query_pairs(raw_query: str) -> list[tuple[str, str]]:
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return pairs


def _parse_credential(credential: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not parts[0]:
        raise MalformedAuthorization(f"malformed Credential {credential!r}")
    return parts[0], parts[1], parts[2], parts[3]


def parse(headers: Mapping[str, str], raw_query: str) -> SignedRequest | None:
    """The signing data of a request, or ``None`` when it is not signed at all.

    Raises :class:`MalformedAuthorization` for a SigV4 request whose fields are broken.
    """
    authorization = _header(headers, "authorization")
    token = _header(headers, "x-amz-security-token")
    if (authorization or "").startswith(SIGV4A) or SIGV4A in raw_query:
        raise SigV4aNotSupported(f"{SIGV4A} (SigV4a) signatures are not supported")
    query_keys = {key for key, _ in _query_pairs(raw_query)}
    if (authorization or "").startswith("AWS ") or {"AWSAccessKeyId", "Signature"} <= query_keys:
        raise SigV2NotSupported(
            "The authorization mechanism you have provided is not supported. "
            f"Please use {ALGORITHM}."
        )
    if authorization:
        if not authorization.startswith(ALGORITHM + " "):
            raise MalformedAuthorization(
                f"only {ALGORITHM} is supported; got {authorization.split(' ', 1)[0]!r}"
            )
        fields: dict[str, str] = {}
        for item in authorization[len(ALGORITHM) :].split(","):
            key, sep, value = item.strip().partition("=")
            if sep:
                fields[key] = value
        try:
            credential = fields["Credential"]
            signed = fields["SignedHeaders"]
            signature = fields["Signature"]
        except KeyError as missing:
            raise MalformedAuthorization(f"Authorization lacks {missing.args[0]}") from None
        amz_date = _header(headers, "x-amz-date") or ""
        key_id, date, region, service = _parse_credential(credential)
        return SignedRequest(
            access_key_id=key_id,
            scope_date=date,
            region=region,
            service=service,
            signed_headers=tuple(signed.split(";")),
            signature=signature,
            amz_date=amz_date,
            session_token=token,
            presigned=False,
        )
    query = dict(_query_pairs(raw_query))
    if query.get("X-Amz-Algorithm") == ALGORITHM:
        try:
            key_id, date, region, service = _parse_credential(query["X-Amz-Credential"])
            return SignedRequest(
                access_key_id=key_id,
                scope_date=date,
                region=region,
                service=service,
                signed_headers=tuple(query["X-Amz-SignedHeaders"].split(";")),
                signature=query["X-Amz-Signature"],
                amz_date=query["X-Amz-Date"],
                session_token=query.get("X-Amz-Security-Token"),
                presigned=True,
                expires_seconds=int(query["X-Amz-Expires"]),
            )
        except (KeyError, ValueError) as exc:
            raise MalformedAuthorization(f"presigned URL lacks or garbles {exc}") from None
    return None


def _encode(value: str) -> str:
    # Unreserved characters stay, everything else is %XX in upper-case hex (the spec's rule).
    return quote(value, safe="-_.~")


def canonical_query(raw_query: str, *, presigned: bool) -> str:
    pairs = [
        (_encode(k), _encode(v))
        for k, v in _query_pairs(raw_query)
        if not (presigned and k == "X-Amz-Signature")
    ]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _canonical_headers(signed: SignedRequest, headers: Mapping[str, str]) -> str | None:
    lines = []
    for name in signed.signed_headers:
        values = [v for k, v in headers.items() if k.lower() == name]
        if not values:
            return None  # the client signed a header we did not receive
        value = ",".join(_WHITESPACE.sub(" ", v.strip()) for v in values)
        lines.append(f"{name}:{value}\n")
    return "".join(lines)


def _payload_hash(signed: SignedRequest, headers: Mapping[str, str], body: bytes) -> str:
    declared = _header(headers, "x-amz-content-sha256")
    if declared:
        return declared
    if signed.presigned and signed.service == "s3":
        return UNSIGNED_PAYLOAD
    return hashlib.sha256(body).hexdigest()


def canonical_uri(raw_path: str, service: str) -> str | None:
    """The canonical URI AWS computes for a request path, or ``None`` when no signature can
    cover the path.

    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html:
    the path is normalised and each segment URI-encoded twice, "except for Amazon S3 which only
    gets URI-encoded once" and is not normalised
    (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html: the
    object's path, "/" not encoded). One path, one canonical URI: trying several spellings
    let a signature for ``a/b`` verify for ``a%2Fb`` (another REST route) or one for ``a b``
    for the literal ``a%20b``. Outside S3 a path not in normal form (``.``, ``..`` or empty
    segments, spelled or escaped) is refused rather than normalised: AWS routes the
    normalised path, moto would route the path as sent.
    """
    path = raw_path or "/"
    if service == "s3":
        # The key as S3 (and moto) reads it — every escape decoded, %2F included — encoded once.
        return quote(unquote_to_bytes(path), safe="/~")
    segments = [unquote_to_bytes(segment) for segment in path.split("/")]
    inner, last = segments[1:-1], segments[-1]
    if segments[0] or any(s in (b"", b".", b"..") for s in inner) or last in (b".", b".."):
        return None
    return "/".join(quote(quote(segment, safe="~"), safe="~") for segment in segments)


def scope(signed: SignedRequest) -> str:
    return f"{signed.scope_date}/{signed.region}/{signed.service}/aws4_request"


def scope_service(headers: Mapping[str, str], raw_query: str) -> str | None:
    """The service a request is signed for (its credential scope), without verifying."""
    authorization = _header(headers, "authorization") or ""
    credential = authorization.partition("Credential=")[2].split(",", 1)[0]
    if not credential:
        credential = dict(_query_pairs(raw_query)).get("X-Amz-Credential", "")
    parts = credential.split("/")
    return parts[3] if len(parts) == 5 else None


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def verify(
    signed: SignedRequest,
    secret: str,
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> bool:
    """True when ``signed.signature`` is the SigV4 signature of this request under ``secret``."""
    canonical_headers = _canonical_headers(signed, headers)
    if canonical_headers is None or not signed.amz_date.startswith(signed.scope_date):
        return False
    query = canonical_query(raw_query, presigned=signed.presigned)
    payload = _payload_hash(signed, headers, body)
    scope = f"{signed.scope_date}/{signed.region}/{signed.service}/aws4_request"
    key = signing_key(secret, signed.scope_date, signed.region, signed.service)
    uri = canonical_uri(raw_path, signed.service)
    if uri is None:
        return False
    canonical = "\n".join(
        [method.upper(), uri, query, canonical_headers, ";".join(signed.signed_headers), payload]
    )
    to_sign = "\n".join(
        [ALGORITHM, signed.amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signed.signature)
