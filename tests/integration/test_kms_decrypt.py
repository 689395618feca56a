"""Decrypt and ReEncrypt are authorized on the key the ciphertext names, against a running
local AWS with real boto3 clients.

"If the ciphertext was encrypted under a symmetric encryption KMS key, the KeyId parameter
is optional. AWS KMS can get this information from metadata that it adds to the symmetric
ciphertext blob" (https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html),
and the request "is authorized based on the key policy, grants that may be present, and any
associated IAM policies that reference the key ID"
(https://docs.aws.amazon.com/kms/latest/cryptographic-details/decrypt-operation.html). So an
IAM policy allowing ``kms:Decrypt`` on ``*`` is not enough where the key policy does not
delegate to the account, and a caller in another account needs both the key policy and its
own IAM policy (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html).
A ``KeyId`` / ``SourceKeyId`` other than the ciphertext's key is IncorrectKeyException.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.local_helpers import OPERATOR_ARN, client, denied, grant, moto_user, policy

from crosstrack.local import ACCOUNT_A, ACCOUNT_B, LocalAWS

SECRET = b"the launch codes"


class World:
    def __init__(self, aws: LocalAWS) -> None:
        self.aws = aws
        self.operator = client(aws, "kms")
        # The default key policy: the account delegates to its IAM policies.
        self.open = str(self.operator.create_key()["KeyMetadata"]["Arn"])
        self.other_open = str(self.operator.create_key()["KeyMetadata"]["Arn"])
        # No account-root statement: only the principals it names may use the key.
        self.closed = self.key(grant(OPERATOR_ARN, "kms:*"))

    def key(self, *statements: dict[str, Any]) -> str:
        created = self.operator.create_key(Policy=policy(*statements))
        return str(created["KeyMetadata"]["Arn"])

    def blob(self, key: str) -> bytes:
        return bytes(self.operator.encrypt(KeyId=key, Plaintext=SECRET)["CiphertextBlob"])

    def user(self, name: str, *statements: dict[str, Any], account: str = ACCOUNT_A) -> Any:
        """A user of ``account`` whose only identity policy is ``statements`` (written
        straight into the emulator's IAM state)."""
        credentials = moto_user(name, *statements, policy_name="kms", account=account)
        return client(self.aws, "kms", credentials=credentials)


def _allow(action: str | list[str], resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with LocalAWS(tmp_path_factory.mktemp("kms-decrypt")) as aws:
        yield World(aws)


def _audit(world: World) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(world.aws.audit_log).read_text().splitlines()]


# ------------------------------------------------------------------ same account
def test_iam_on_star_does_not_open_a_key_whose_policy_does_not_delegate(world: World) -> None:
    wide = world.user("wide-decrypter", _allow("kms:Decrypt"))
    blob = world.blob(world.closed)
    denied(lambda: wide.decrypt(CiphertextBlob=blob), "kms:Decrypt", world.closed)
    # Naming the key changes nothing; naming another key is not a way around it either.
    denied(
        lambda: wide.decrypt(CiphertextBlob=blob, KeyId=world.closed), "kms:Decrypt", world.closed
    )
    denied(lambda: wide.decrypt(CiphertextBlob=blob, KeyId=world.open), "kms:Decrypt", world.closed)
    # The same IAM policy decrypts under a key whose policy delegates to the account.
    assert wide.decrypt(CiphertextBlob=world.blob(world.open))["Plaintext"] == SECRET


def test_legitimate_decrypt_works_with_and_without_key_id(world: World) -> None:
    blob = world.blob(world.closed)
    for extra in ({}, {"KeyId": world.closed}, {"KeyId": world.closed.rsplit("/", 1)[1]}):
        answer = world.operator.decrypt(CiphertextBlob=blob, **extra)
        assert (answer["Plaintext"], answer["KeyId"]) == (SECRET, world.closed)
    user = world.user("narrow-decrypter", _allow("kms:Decrypt", world.open))
    assert user.decrypt(CiphertextBlob=world.blob(world.open))["Plaintext"] == SECRET
    denied(
        lambda: user.decrypt(CiphertextBlob=world.blob(world.other_open)),
        "kms:Decrypt",
        world.other_open,
    )


def test_request_alias_still_comes_from_the_key_id_the_request_names(world: World) -> None:
    world.operator.create_alias(AliasName="alias/decrypt-team", TargetKeyId=world.open)
    through_alias = world.user(
        "alias-decrypter",
        {
            **_allow("kms:Decrypt"),
            "Condition": {"StringEquals": {"kms:RequestAlias": "alias/decrypt-team"}},
        },
    )
    blob = world.blob(world.open)
    answer = through_alias.decrypt(CiphertextBlob=blob, KeyId="alias/decrypt-team")
    assert answer["Plaintext"] == SECRET
    denied(lambda: through_alias.decrypt(CiphertextBlob=blob), "kms:Decrypt", world.open)


def test_a_key_id_other_than_the_ciphertext_s_is_incorrect_key(world: World) -> None:
    both = world.user("two-key-decrypter", _allow("kms:Decrypt"))
    with pytest.raises(ClientError) as raised:
        both.decrypt(CiphertextBlob=world.blob(world.open), KeyId=world.other_open)
    assert raised.value.response["Error"]["Code"] == "IncorrectKeyException"


def test_a_blob_naming_no_key_is_refused_without_plaintext(world: World) -> None:
    wide = world.user("garbage-decrypter", _allow("kms:Decrypt"))
    real = world.blob(world.open)
    unknown = b"00000000-0000-0000-0000-000000000000" + real[36:]
    for blob in (b"x", b"\xff" * 80, unknown):
        with pytest.raises(ClientError) as raised:
            wide.decrypt(CiphertextBlob=blob)
        code = raised.value.response["Error"]["Code"]
        assert code in ("InvalidCiphertextException", "AccessDeniedException"), code


# ------------------------------------------------------------------------ ReEncrypt
def test_re_encrypt_without_source_key_id_is_decided_on_the_ciphertext_s_key(
    world: World,
) -> None:
    wide = world.user("wide-re-encrypter", _allow(["kms:ReEncryptFrom", "kms:ReEncryptTo"]))
    blob = world.blob(world.closed)
    denied(
        lambda: wide.re_encrypt(CiphertextBlob=blob, DestinationKeyId=world.open),
        "kms:ReEncryptFrom",
        world.closed,
    )
    # moto decrypts with the blob's key whatever SourceKeyId says: naming an allowed key
    # must not move the decision off the key that is used.
    denied(
        lambda: wide.re_encrypt(
            CiphertextBlob=blob, SourceKeyId=world.open, DestinationKeyId=world.open
        ),
        "kms:ReEncryptFrom",
        world.closed,
    )
    moved = wide.re_encrypt(
        CiphertextBlob=world.blob(world.open), DestinationKeyId=world.other_open
    )
    assert (moved["SourceKeyId"], moved["KeyId"]) == (world.open, world.other_open)
    assert world.operator.decrypt(CiphertextBlob=moved["CiphertextBlob"])["Plaintext"] == SECRET


def test_re_encrypt_with_another_source_key_id_is_incorrect_key(world: World) -> None:
    wide = world.user("mismatched-re-encrypter", _allow(["kms:ReEncryptFrom", "kms:ReEncryptTo"]))
    with pytest.raises(ClientError) as raised:
        wide.re_encrypt(
            CiphertextBlob=world.blob(world.open),
            SourceKeyId=world.other_open,
            DestinationKeyId=world.other_open,
        )
    assert raised.value.response["Error"]["Code"] == "IncorrectKeyException"


# ---------------------------------------------------------------------- cross-account
def test_cross_account_decrypt_needs_the_key_policy_and_the_caller_s_iam_policy(
    world: World,
) -> None:
    iam_only = world.user("b-iam-only", _allow("kms:Decrypt"), account=ACCOUNT_B)
    key_only = world.user("b-key-only", account=ACCOUNT_B)
    both = world.user("b-both", _allow("kms:Decrypt"), account=ACCOUNT_B)
    shared = world.key(
        grant(OPERATOR_ARN, "kms:*"),
        grant(
            [f"arn:aws:iam::{ACCOUNT_B}:user/b-key-only", f"arn:aws:iam::{ACCOUNT_B}:user/b-both"],
            "kms:Decrypt",
        ),
    )
    blob = world.blob(shared)
    denied(lambda: iam_only.decrypt(CiphertextBlob=blob), "kms:Decrypt", shared)
    denied(lambda: key_only.decrypt(CiphertextBlob=blob), "kms:Decrypt", shared)
    # Both sides allow: the local AWS admits the request on the key. (moto then looks the
    # key up in the caller's own account and cannot serve it: the decision is what counts.)
    with pytest.raises(ClientError):
        both.decrypt(CiphertextBlob=blob)
    decided = [
        (entry["principal"], entry["decision"])
        for entry in _audit(world)
        if entry.get("action") == "kms:Decrypt" and entry.get("resource") == shared
    ]
    assert decided == [
        (f"arn:aws:iam::{ACCOUNT_B}:user/b-iam-only", "implicitDeny"),
        (f"arn:aws:iam::{ACCOUNT_B}:user/b-key-only", "implicitDeny"),
        (f"arn:aws:iam::{ACCOUNT_B}:user/b-both", "allowed"),
    ]
