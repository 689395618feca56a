"""S3: which operation a request is, on which bucket and key, and every action it needs.

The bucket and key are taken exactly as moto 5.2.x takes them for a path-style request
(``moto/s3bucket_path/utils.py``: the bucket is the first segment of the raw path, the key
the rest of the percent-decoded path), so the resource decided on is the one moto acts on.
What the models cannot say is added here, from the S3 API reference's "Permissions"
sections (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html):
a copy reads its source, ACL and tagging headers need their own actions, a versioned
request uses the ``…Version`` action, and ``DeleteObjects`` is decided per key.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlparse
from xml.sax.saxutils import escape

from crosstrack.local.accounts import PARTITION
from crosstrack.local.auth import operation_actions, operations
from crosstrack.local.auth.operations import Classified, Unclassified

# Bucket names as S3 allows them (legacy upper case and underscores included); no "%", so
# the raw segment moto takes and the decoded name are the same string.
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$")

# https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
# (object operations with a versionId use the …Version action).
VERSIONED = {
    "GetObject": "GetObjectVersion",
    "GetObjectAcl": "GetObjectVersionAcl",
    "GetObjectTagging": "GetObjectVersionTagging",
    "GetObjectAttributes": "GetObjectVersionAttributes",
    "GetObjectTorrent": "GetObjectVersionTorrent",
    "PutObjectAcl": "PutObjectVersionAcl",
    "PutObjectTagging": "PutObjectVersionTagging",
    "DeleteObject": "DeleteObjectVersion",
    "DeleteObjectTagging": "DeleteObjectVersionTagging",
}
_GRANT_HEADERS = (
    "x-amz-acl",
    "x-amz-grant-full-control",
    "x-amz-grant-read",
    "x-amz-grant-read-acp",
    "x-amz-grant-write",
    "x-amz-grant-write-acp",
)
_WRITES = ("PutObject", "CopyObject", "CreateMultipartUpload")


@dataclass(frozen=True)
class Need:
    """One action on one S3 resource the request needs."""

    action: str  # s3:GetObject
    bucket: str | None
    key: str | None
    note: str | None = None

    @property
    def resource(self) -> str:
        return s3_arn(self.bucket, self.key)


def s3_arn(bucket: str | None, key: str | None) -> str:
    if not bucket:
        return "*"
    return f"arn:{PARTITION}:s3:::{bucket}/{key}" if key else f"arn:{PARTITION}:s3:::{bucket}"


def split_path(raw_path: str) -> tuple[str | None, str | None] | Unclassified:
    """(bucket, key) of a path-style request, as moto will take them."""
    if not raw_path.startswith("/") or raw_path.startswith("//"):
        return Unclassified("s3", f"the path {raw_path!r} is not a path-style S3 path")
    bucket = raw_path[1:].split("/", 1)[0]
    if not bucket:
        return None, None
    if not _BUCKET.match(bucket):
        return Unclassified("s3", f"{bucket!r} is not a bucket name")
    key = "/".join(unquote(raw_path).split("/")[2:])
    return bucket, key or None


def classify(
    method: str, raw_path: str, query: Mapping[str, str], headers: Mapping[str, str]
) -> Classified | Unclassified:
    """The S3 operation of a request, with Bucket and Key set as moto takes them."""
    split = split_path(raw_path)
    if isinstance(split, Unclassified):
        return split
    bucket, key = split
    parts = [p for p in (bucket, key) if p is not None]
    found = operations.match_rest(
        "s3", method, parts, query, headers=headers, served=operation_actions.served("s3")
    )
    if isinstance(found, Unclassified):
        return found
    route, _ = found
    params, unknown = operations.rest_params(
        "s3", route.operation, labels={}, query=query, headers=headers, body=b""
    )
    if bucket:
        params["Bucket"] = bucket
    if key:
        params["Key"] = key
    return Classified("s3", route.operation, "rest-xml", params, unknown)


def _copy_source(value: str) -> tuple[str, str, str | None] | str:
    """(bucket, key, versionId) of an ``x-amz-copy-source`` header, or why it is refused.

    moto reads the header with ``urlparse`` (moto/s3/responses.py, CopyObject and
    UploadPartCopy), which cuts a ``#fragment``, the last segment's ``;params`` and a
    ``scheme://host`` prefix off the path, and takes the first of repeated ``versionId``s.
    The header is ``bucket/key`` URL-encoded, with an optional ``?versionId=``
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html): anything moto
    would read as something else is refused, so the source decided is the one moto copies.
    """
    parsed = urlparse(value)
    if parsed.scheme or parsed.netloc or parsed.params or parsed.fragment or "#" in value:
        return f"x-amz-copy-source {value[:200]!r} is not a URL-encoded bucket/key"
    pairs = parse_qsl(parsed.query, keep_blank_values=True)
    if [name for name, _ in pairs] not in ([], ["versionId"]) or any(not v for _, v in pairs):
        return f"x-amz-copy-source {value[:200]!r}: only one versionId may follow the key"
    bucket, _, key = unquote(parsed.path).lstrip("/").partition("/")
    if not bucket or not key:
        return "x-amz-copy-source must name a bucket and a key"
    return bucket, key, pairs[0][1] if pairs else None


def needs(  # noqa: PLR0912 - one branch per documented permission rule
    found: Classified, headers: Mapping[str, str]
) -> list[Need] | str:
    """Every (action, resource) the request needs, or why it is malformed."""
    operation = found.operation
    bucket = found.params.get("Bucket")
    key = found.params.get("Key")
    (action,) = operation_actions.actions_for("s3", operation)
    name = action.split(":", 1)[1]
    if "VersionId" in found.params and name in VERSIONED:
        name = VERSIONED[name]
    result: list[Need] = []
    if operation in ("CopyObject", "UploadPartCopy"):
        source = _copy_source(headers.get("x-amz-copy-source", ""))
        if isinstance(source, str):
            return source
        read = "s3:GetObjectVersion" if source[2] else "s3:GetObject"
        result.append(Need(read, source[0], source[1], note=f"{operation} source"))
    result.append(Need(f"s3:{name}", bucket, key))
    if operation in _WRITES:
        if any(h in headers for h in _GRANT_HEADERS):
            result.append(Need("s3:PutObjectAcl", bucket, key, note="ACL header"))
        if "x-amz-tagging" in headers:
            result.append(Need("s3:PutObjectTagging", bucket, key, note="x-amz-tagging header"))
        if "x-amz-object-lock-mode" in headers or "x-amz-object-lock-retain-until-date" in headers:
            result.append(Need("s3:PutObjectRetention", bucket, key, note="object lock header"))
        if "x-amz-object-lock-legal-hold" in headers:
            result.append(Need("s3:PutObjectLegalHold", bucket, key, note="legal hold header"))
    if operation == "CreateBucket":
        # https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html (Permissions)
        if any(h in headers for h in _GRANT_HEADERS):
            result.append(Need("s3:PutBucketAcl", bucket, None, note="ACL header"))
        if headers.get("x-amz-bucket-object-lock-enabled", "").lower() == "true":
            for extra in ("s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning"):
                result.append(Need(extra, bucket, None, note="object lock enabled"))
        if "x-amz-object-ownership" in headers:
            result.append(Need("s3:PutBucketOwnershipControls", bucket, None, note="ownership"))
    return result


# Conditional-request headers moto 5.2.x does not read (moto/s3/responses.py): run without
# them, a write the client made conditional overwrites or deletes regardless. Refused rather
# than run unconditionally (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html).
# moto checks If-Match / If-None-Match: * on PutObject, If-Match on DeleteObject and
# If-None-Match: * on CompleteMultipartUpload, so those pass.
_UNCHECKED_CONDITIONS = {
    "CopyObject": ("if-match", "if-none-match"),
    "CompleteMultipartUpload": ("if-match",),
    "DeleteObject": ("x-amz-if-match-last-modified-time", "x-amz-if-match-size"),
    "AbortMultipartUpload": ("x-amz-if-match-initiated-time",),
}
_STAR_ONLY = ("PutObject", "CompleteMultipartUpload")  # If-None-Match: * is checked, an ETag not
# DeleteObjects entries may carry these conditions (ObjectIdentifier); moto ignores them.
_DELETE_CONDITIONS = ("ETag", "LastModifiedTime", "Size")


def unchecked_conditions(operation: str, headers: Mapping[str, str]) -> list[str]:
    """The conditional headers of an S3 request that moto would ignore."""
    names = [h for h in _UNCHECKED_CONDITIONS.get(operation, ()) if h in headers]
    if operation in _STAR_ONLY and headers.get("if-none-match", "*").strip() != "*":
        names.append("if-none-match")
    return [name.title() if name.startswith("if-") else name for name in names]


@dataclass(frozen=True)
class DeleteEntry:
    key: str
    version_id: str | None
    element: ET.Element
    conditions: tuple[str, ...] = ()  # ETag, LastModifiedTime, Size: moto ignores them


@dataclass(frozen=True)
class DeleteRequest:
    root: ET.Element
    entries: list[DeleteEntry]


MALFORMED_XML = (
    "The XML you provided was not well-formed or did not validate against our published schema"
)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_delete(body: bytes) -> DeleteRequest | None:  # noqa: PLR0911 - one per S3 rule
    """The keys of a DeleteObjects body, or ``None`` when S3 would answer MalformedXML
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html): an ``Object``
    has one ``Key`` and at most one ``VersionId``, each plain text."""
    try:
        root = ET.fromstring(body)  # noqa: S314 - expat refuses entity expansion attacks
    except ET.ParseError:
        return None
    if _local(root.tag) != "Delete":
        return None
    entries = []
    for element in list(root):
        if _local(element.tag) == "Quiet":
            continue
        if _local(element.tag) != "Object":
            return None
        names = [_local(child.tag) for child in element]
        if len(set(names)) != len(names) or any(len(child) for child in element):
            return None  # a repeated or structured member: which one would be deleted?
        fields = {_local(child.tag): child.text or "" for child in element}
        if not fields.get("Key"):
            return None
        conditions = tuple(name for name in _DELETE_CONDITIONS if name in fields)
        entries.append(
            DeleteEntry(fields["Key"], fields.get("VersionId") or None, element, conditions)
        )
    if not entries or len(entries) > 1000:
        return None
    return DeleteRequest(root, entries)


# A CR in element text reaches an XML parser as LF unless written as a character reference.
_TEXT_ENTITIES = {"\r": "&#13;"}


def without(request: DeleteRequest, denied: list[DeleteEntry]) -> bytes:
    """The DeleteObjects body with the denied entries removed (moto deletes the rest),
    written afresh in S3's default namespace (moto reads the element names as they are)."""
    refused = {id(entry.element) for entry in denied}
    parts = ['<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">']
    for element in list(request.root):
        if _local(element.tag) == "Quiet":
            parts.append(f"<Quiet>{escape(element.text or '', _TEXT_ENTITIES)}</Quiet>")
    for entry in request.entries:
        if id(entry.element) in refused:
            continue
        version = (
            f"<VersionId>{escape(entry.version_id, _TEXT_ENTITIES)}</VersionId>"
            if entry.version_id
            else ""
        )
        parts.append(f"<Object><Key>{escape(entry.key, _TEXT_ENTITIES)}</Key>{version}</Object>")
    parts.append("</Delete>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + "".join(parts)).encode()


def denied_errors(denied: list[DeleteEntry]) -> bytes:
    """``<Error>`` entries S3 puts in a DeleteResult for keys the caller may not delete."""
    parts = []
    for entry in denied:
        key = ET.Element("Key")
        key.text = entry.key
        element = ET.Element("Error")
        element.append(key)
        if entry.version_id:
            version = ET.SubElement(element, "VersionId")
            version.text = entry.version_id
        ET.SubElement(element, "Code").text = "AccessDenied"
        ET.SubElement(element, "Message").text = "Access Denied"
        parts.append(ET.tostring(element, encoding="unicode"))
    return "".join(parts).encode()


def merge_delete_result(moto_body: bytes, errors: bytes) -> bytes:
    """moto's DeleteResult with the refused keys' errors appended."""
    marker = b"</DeleteResult>"
    if marker in moto_body:
        return moto_body.replace(marker, errors + marker, 1)
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' + errors + marker
    )
