"""The key a ciphertext names: read from moto's own blobs, never raising on garbage, and
used for Decrypt and ``kms:ReEncryptFrom`` (a KeyId/SourceKeyId that is not that key is
IncorrectKeyException: https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html)."""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from crosstrack.local.moto import resources
from crosstrack.local.services.kms_resources import (
    ciphertext_bytes,
    incorrect_key,
    kms_needs,
)
from crosstrack.local.services.service_resources import getter

# Accounts no other test uses: moto's state is global to the process.
OWNER = "918273645501"
OTHER = "918273645502"
REGION = "us-east-1"
KEY_1 = f"arn:aws:kms:{REGION}:{OWNER}:key/1111"
KEY_2 = f"arn:aws:kms:{REGION}:{OWNER}:key/2222"
NAMES = {"alias/one": KEY_1, "1111": KEY_1, KEY_1: KEY_1, "2222": KEY_2, KEY_2: KEY_2}


def _key_arn(identifier: str) -> str | None:
    return NAMES.get(identifier)


def _needs(operation: str, actions: list[str], blob_key: str | None, **params: Any) -> list[Any]:
    return [
        (n.action, n.resource, dict(n.context))
        for n in kms_needs(
            operation,
            actions,
            getter(params),
            account=OWNER,
            region=REGION,
            key_arn=_key_arn,
            ciphertext_key=blob_key,
        )
    ]


def _moto_blob(account: str) -> tuple[str, bytes]:
    from moto.kms.models import kms_backends

    backend = kms_backends[account][REGION]
    key = backend.create_key(None, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", "", None)
    blob, _ = backend.encrypt(key_id=key.id, plaintext=b"secret", encryption_context={})
    return str(key.arn), bytes(blob)


def test_the_key_moto_s_blob_names_is_found_in_its_own_account() -> None:
    arn, blob = _moto_blob(OWNER)
    key_id = resources.ciphertext_key_id(blob)
    assert key_id is not None
    assert arn.endswith(f":key/{key_id}")
    found = resources.ciphertext_key(key_id, account=OWNER, region=REGION)
    assert found is not None
    assert (found.arn, found.account) == (arn, OWNER)
    # From another account: the key's own account, as the ciphertext's metadata says in AWS.
    found = resources.ciphertext_key(key_id, account=OTHER, region=REGION)
    assert found is not None
    assert found.arn == arn
    # Not in another region, where moto would not find it either.
    assert resources.ciphertext_key(key_id, account=OWNER, region="eu-west-1") is None


def test_a_blob_key_id_is_looked_up_exactly_never_as_an_alias_or_arn() -> None:
    arn, _ = _moto_blob(OWNER)
    for near in (arn, "alias/aws/s3", arn.rsplit("/", 1)[1].upper(), ""):
        assert resources.ciphertext_key(near, account=OWNER, region=REGION) is None


@given(st.binary(max_size=200))
def test_garbage_never_raises(blob: bytes) -> None:
    key_id = resources.ciphertext_key_id(blob)
    assert key_id is None or isinstance(key_id, str)


def test_short_or_undecodable_blobs_name_no_key() -> None:
    for blob in (b"", b"x", b"a" * 63, b"\xff" * 100):
        assert resources.ciphertext_key_id(blob) is None


def test_the_blob_parameter_is_decoded_as_moto_decodes_it() -> None:
    assert ciphertext_bytes(base64.b64encode(b"abc").decode()) == b"abc"
    assert ciphertext_bytes("YW\nJj") == b"abc"  # non-alphabet characters are skipped
    for value in (None, 3, ["YWJj"], {"a": 1}, "YWJ", "\ud800"):
        assert ciphertext_bytes(value) is None


def test_decrypt_is_decided_on_the_ciphertext_s_key() -> None:
    assert _needs("Decrypt", ["kms:Decrypt"], KEY_2) == [("kms:Decrypt", KEY_2, {})]
    # Without a key the blob names, as before: the KeyId's key, or *.
    assert _needs("Decrypt", ["kms:Decrypt"], None) == [("kms:Decrypt", "*", {})]
    assert _needs("Decrypt", ["kms:Decrypt"], None, KeyId="1111") == [("kms:Decrypt", KEY_1, {})]


def test_request_alias_still_comes_from_the_key_id() -> None:
    needs = _needs("Decrypt", ["kms:Decrypt"], KEY_1, KeyId="alias/one")
    assert needs == [("kms:Decrypt", KEY_1, {"kms:RequestAlias": "alias/one"})]


def test_re_encrypt_from_is_on_the_ciphertext_s_key_and_to_on_the_destination() -> None:
    needs = _needs(
        "ReEncrypt", ["kms:ReEncryptFrom", "kms:ReEncryptTo"], KEY_1, DestinationKeyId="2222"
    )
    assert needs == [("kms:ReEncryptFrom", KEY_1, {}), ("kms:ReEncryptTo", KEY_2, {})]
    # SourceKeyId naming another key never moves ReEncryptFrom off the key that is used.
    needs = _needs(
        "ReEncrypt",
        ["kms:ReEncryptFrom", "kms:ReEncryptTo"],
        KEY_1,
        SourceKeyId="2222",
        DestinationKeyId="2222",
    )
    assert needs[0] == ("kms:ReEncryptFrom", KEY_1, {})


def test_other_operations_ignore_the_blob() -> None:
    assert _needs("Encrypt", ["kms:Encrypt"], KEY_2, KeyId="1111") == [("kms:Encrypt", KEY_1, {})]


def test_a_key_id_that_is_not_the_ciphertext_s_key_is_incorrect() -> None:
    def check(operation: str, blob_key: str | None, **params: str) -> str | None:
        return incorrect_key(operation, getter(params), ciphertext_key=blob_key, key_arn=_key_arn)

    assert check("Decrypt", KEY_1, KeyId="2222") == "2222"
    assert check("Decrypt", KEY_1, KeyId="missing") == "missing"
    assert check("ReEncrypt", KEY_1, SourceKeyId=KEY_2) == KEY_2
    for same in ("1111", "alias/one", KEY_1):
        assert check("Decrypt", KEY_1, KeyId=same) is None
    assert check("Decrypt", KEY_1) is None
    assert check("Decrypt", None, KeyId="2222") is None  # no blob key: moto decides
    assert check("ReEncrypt", KEY_1, DestinationKeyId="2222") is None
    assert check("Encrypt", KEY_1, KeyId="2222") is None
