"""SigV4 verification against requests signed by botocore, the way clients sign them."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from crosstrack.local.auth import sigv4

KEY = Credentials("AKIAEXAMPLEKEY000001", "secret/with+chars", None)


def _verify(request: AWSRequest, secret: str = KEY.secret_key) -> bool:
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    headers = dict(prepared.headers.items())
    headers.setdefault("Host", parts.netloc)  # what the HTTP layer adds on the wire
    signed = sigv4.parse(headers, parts.query)
    assert signed is not None
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    return sigv4.verify(
        signed,
        secret,
        method=prepared.method,
        raw_path=parts.path,
        raw_query=parts.query,
        headers=headers,
        body=body,
    )


def _signed(auth_cls: type[SigV4Auth], service: str, **kwargs: object) -> AWSRequest:
    request = AWSRequest(**kwargs)  # type: ignore[arg-type]
    auth_cls(KEY, service, "us-east-1").add_auth(request)
    return request


def test_query_protocol_post_with_form_body_verifies() -> None:
    request = _signed(
        SigV4Auth,
        "sts",
        method="POST",
        url="https://127.0.0.1:4566/",
        data={"Action": "AssumeRole", "RoleArn": "arn:aws:iam::2:role/x", "Version": "2011"},
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    assert _verify(request)


def test_bodyless_rest_json_get_verifies() -> None:
    # The request moto's own check rejects (field-notes): a GET with no body and no query.
    request = _signed(
        SigV4Auth,
        "lambda",
        method="GET",
        url="https://127.0.0.1:4566/2015-03-31/functions/write-report-to-crossaccount-s3",
    )
    assert _verify(request)


def test_path_with_escaped_characters_verifies_for_non_s3_services() -> None:
    request = _signed(
        SigV4Auth,
        "lambda",
        method="GET",
        url="https://127.0.0.1:4566/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/policy",
    )
    assert _verify(request)


def test_s3_put_with_special_key_and_query_verifies() -> None:
    request = _signed(
        S3SigV4Auth,
        "s3",
        method="PUT",
        url="https://127.0.0.1:4566/bucket/dir/a%20b%2Bc.txt?x-id=PutObject",
        data=b"ISS Location Logs\n",
    )
    assert _verify(request)


def test_s3_presigned_url_verifies() -> None:
    request = AWSRequest(method="GET", url="https://127.0.0.1:4566/bucket/key.txt")
    S3SigV4QueryAuth(KEY, "s3", "us-east-1", expires=60).add_auth(request)
    assert _verify(request)


def test_wrong_secret_fails() -> None:
    request = _signed(
        SigV4Auth, "iam", method="POST", url="https://127.0.0.1:1/", data="Action=ListRoles"
    )
    assert not _verify(request, secret="not-the-secret")


def test_tampered_body_fails() -> None:
    request = _signed(
        SigV4Auth, "iam", method="POST", url="https://127.0.0.1:1/", data=b"Action=ListRoles"
    )
    request.data = b"Action=DeleteRole&RoleName=terraform"
    assert not _verify(request)


def test_unsigned_request_parses_as_none() -> None:
    assert sigv4.parse({"Host": "127.0.0.1"}, "list-type=2") is None


def test_other_algorithms_are_rejected_clearly() -> None:
    with pytest.raises(sigv4.MalformedAuthorization, match="only AWS4-HMAC-SHA256"):
        sigv4.parse({"Authorization": "HMAC AKIA:abc"}, "")


def test_signature_version_2_and_sigv4a_are_told_apart() -> None:
    with pytest.raises(sigv4.SigV2NotSupported, match="Please use AWS4-HMAC-SHA256"):
        sigv4.parse({"Authorization": "AWS AKIA:abc"}, "")
    with pytest.raises(sigv4.SigV2NotSupported):
        sigv4.parse({}, "AWSAccessKeyId=AKIA&Signature=x&Expires=1")
    with pytest.raises(sigv4.SigV4aNotSupported):
        sigv4.parse(
            {"Authorization": "AWS4-ECDSA-P256-SHA256 Credential=AKIA/20260101/s3/aws4_request"}, ""
        )
