"""A signature covers one path: the canonical URI is computed exactly as AWS computes it.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
and https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html: outside
S3 the canonical URI is the normalised path with each segment URI-encoded twice; S3's is
the object's path (the decoded path, "/" kept) URI-encoded once, never normalised. The local
AWS used to try several spellings of the path, so a REST-JSON request signed for ``a/b``
also verified when sent as ``a%2Fb`` (another route), and ``a b`` as the literal ``a%20b``.
Each swap below is made after signing, on the wire (http.client sends the path as given),
against a running local AWS; the unswapped request is the control.
"""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Iterator

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from tests.local_helpers import make_bucket, operator_credentials

from crosstrack.local import LocalAWS

BUCKET = "canonical-path"


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAWS]:
    with LocalAWS(tmp_path_factory.mktemp("canonical-path")) as running:
        keys = ("a/b", "a%2Fb", "a b", "a%20b", "x")
        make_bucket(running, BUCKET, {key: f"object {key}".encode() for key in keys})
        yield running


def _send(
    aws: LocalAWS,
    service: str,
    method: str,
    signed_path: str,
    sent_path: str,
    *,
    presign: bool = False,
) -> tuple[int, bytes]:
    """Sign ``signed_path`` (as it goes on the wire), then send ``sent_path`` instead."""
    request = AWSRequest(method=method, url=f"{aws.endpoint}{signed_path}")
    creds = operator_credentials(aws)
    signer: botocore.auth.SigV4Auth
    if presign:
        signer = botocore.auth.S3SigV4QueryAuth(creds, service, "us-east-1", expires=300)
    elif service == "s3":
        signer = botocore.auth.S3SigV4Auth(creds, service, "us-east-1")
    else:
        signer = botocore.auth.SigV4Auth(creds, service, "us-east-1")
    signer.add_auth(request)
    prepared = request.prepare()
    target = str(prepared.url).split(aws.endpoint, 1)[1].replace(signed_path, sent_path, 1)
    host, port = aws.endpoint.split("//")[1].split(":")
    context = ssl.create_default_context(cafile=str(aws.ca_bundle))
    connection = http.client.HTTPSConnection(host, int(port), context=context, timeout=10)
    try:
        headers = {k: v for k, v in prepared.headers.items() if k.lower() != "host"}
        connection.request(method, target, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _code(data: bytes) -> str:
    text = data.decode()
    if "<Code>" in text:
        return text.split("<Code>", 1)[1].split("</Code>", 1)[0]
    return str(json.loads(text).get("__type", text)) if text.startswith("{") else text


S3_SWAPS = [
    ("a/b", "a%252Fb"),  # key "a/b" signed, key "a%2Fb" asked for
    ("a%252Fb", "a/b"),
    ("a%20b", "a%2520b"),  # key "a b" signed, key "a%20b" asked for
    ("a%2520b", "a%20b"),
    ("x", "./x"),  # S3 does not normalise: "./x" is another key
]


@pytest.mark.parametrize(("signed", "sent"), S3_SWAPS)
@pytest.mark.parametrize("presign", [False, True], ids=["header", "presigned"])
def test_an_s3_signature_does_not_verify_for_another_key(
    aws: LocalAWS, signed: str, sent: str, presign: bool
) -> None:
    path = f"/{BUCKET}/{signed}"
    status, _ = _send(aws, "s3", "GET", path, path, presign=presign)
    assert status == 200
    status, data = _send(aws, "s3", "GET", path, f"/{BUCKET}/{sent}", presign=presign)
    assert (status, _code(data)) == (403, "SignatureDoesNotMatch"), data


@pytest.mark.parametrize(("signed", "sent", "key"), [("x", "%78", "x"), ("a/b", "a%2Fb", "a/b")])
def test_an_s3_key_spelled_with_other_escapes_is_the_same_path(
    aws: LocalAWS, signed: str, sent: str, key: str
) -> None:
    # S3 signs the object's path: "%78" is "x", and "a%2Fb" is the key "a/b" (S3 and moto
    # read it so), whose path is "/bucket/a/b" however the client spelled it.
    status, data = _send(aws, "s3", "GET", f"/{BUCKET}/{signed}", f"/{BUCKET}/{sent}")
    assert (status, data) == (200, f"object {key}".encode())


def test_an_s3_signature_over_a_non_canonical_spelling_is_refused(aws: LocalAWS) -> None:
    # A client that signs "a%2Fb" as it sent it signed a path S3 does not compute.
    path = f"/{BUCKET}/a%2Fb"
    status, data = _send(aws, "s3", "GET", path, path)
    assert (status, _code(data)) == (403, "SignatureDoesNotMatch"), data


LAMBDA_SWAPS = [
    ("/2015-03-31/functions/a/policy", "/2015-03-31/functions/a%2Fpolicy"),
    ("/2015-03-31/functions/a%2Fpolicy", "/2015-03-31/functions/a/policy"),
    ("/2015-03-31/functions/a%20b", "/2015-03-31/functions/a%2520b"),
    ("/2015-03-31/functions/a%2520b", "/2015-03-31/functions/a%20b"),
    ("/2015-03-31/functions/a", "/2015-03-31/functions/a%2F"),
    ("/2015-03-31/functions/a", "/2015-03-31/functions/b/../a"),
    ("/2015-03-31/functions/a", "/2015-03-31/functions/b/%2E%2E/a"),
    ("/2015-03-31/functions/a", "/2015-03-31//functions/./a"),
]


@pytest.mark.parametrize(("signed", "sent"), LAMBDA_SWAPS)
def test_a_rest_json_signature_does_not_verify_for_another_path(
    aws: LocalAWS, signed: str, sent: str
) -> None:
    status, data = _send(aws, "lambda", "GET", signed, signed)
    assert b"InvalidSignatureException" not in data, data  # verified (no such function)
    status, data = _send(aws, "lambda", "GET", signed, sent)
    # A path outside normal form is refused too: AWS would normalise it before routing,
    # moto would route the path as sent.
    assert (status, _code(data)) == (403, "InvalidSignatureException"), data
