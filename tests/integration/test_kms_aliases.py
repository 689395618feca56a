"""KMS aliases are authorized as AWS authorizes them, against a running local AWS.

https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html: CreateAlias,
DeleteAlias and UpdateAlias need the permission on the alias (IAM policy) *and* on every
affected key (key policy, or IAM where the key policy delegates to the account) —
UpdateAlias on the current key and on the new one. A cryptographic operation that names its
key by an alias acts on the key, never on the alias
(https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html), with the
alias name in ``kms:RequestAlias``. ReEncrypt needs ``kms:ReEncryptFrom`` on the source key
and ``kms:ReEncryptTo`` on the destination key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.local_helpers import client, denied, iam_user, operator_only_key_policy

from crosstrack.local import ACCOUNT_A, LocalAWS

PREFIX = f"arn:aws:kms:us-east-1:{ACCOUNT_A}"
TEAM_ALIASES = f"{PREFIX}:alias/team-*"
ALL_KEYS = f"{PREFIX}:key/*"


class Keys:
    def __init__(self, aws: LocalAWS) -> None:
        self.aws = aws
        self.operator = client(aws, "kms")
        self.first = self._key()
        self.second = self._key()
        # A key whose policy names only the operator: IAM policies of others do not count.
        self.closed = self._key(operator_only_key_policy())

    def _key(self, policy: str | None = None) -> str:
        extra = {"Policy": policy} if policy else {}
        return str(self.operator.create_key(**extra)["KeyMetadata"]["Arn"])

    def user(self, name: str, *statements: dict[str, Any]) -> Any:
        credentials = iam_user(self.aws, name, *statements, policy_name="kms")
        return client(self.aws, "kms", credentials=credentials)


def _allow(action: str | list[str], *resources: str, **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": list(resources)}
    if condition:
        statement["Condition"] = condition
    return statement


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keys]:
    with LocalAWS(tmp_path_factory.mktemp("kms-aliases")) as aws:
        yield Keys(aws)


def _aliases(keys: Keys) -> dict[str, str]:
    listed = keys.operator.list_aliases()["Aliases"]
    return {a["AliasName"]: a.get("TargetKeyId", "") for a in listed if "TargetKeyId" in a}


def test_create_alias_needs_the_alias_and_the_key(keys: Keys) -> None:
    key_only = keys.user("key-only", _allow("kms:CreateAlias", ALL_KEYS))
    denied(
        lambda: key_only.create_alias(AliasName="alias/team-a", TargetKeyId=keys.first),
        "kms:CreateAlias",
        f"{PREFIX}:alias/team-a",
    )
    alias_only = keys.user("alias-only", _allow("kms:CreateAlias", TEAM_ALIASES))
    denied(
        lambda: alias_only.create_alias(AliasName="alias/team-a", TargetKeyId=keys.first),
        "kms:CreateAlias",
        keys.first,
    )
    assert "alias/team-a" not in _aliases(keys)
    both = keys.user("both", _allow("kms:CreateAlias", TEAM_ALIASES, ALL_KEYS))
    both.create_alias(AliasName="alias/team-a", TargetKeyId=keys.first)
    assert _aliases(keys)["alias/team-a"] == keys.first.split("/")[-1]
    denied(
        lambda: both.create_alias(AliasName="alias/other", TargetKeyId=keys.first),
        "kms:CreateAlias",
        f"{PREFIX}:alias/other",
    )


def test_the_key_policy_still_decides_for_the_key(keys: Keys) -> None:
    both = keys.user("both-closed", _allow("kms:CreateAlias", TEAM_ALIASES, ALL_KEYS))
    denied(
        lambda: both.create_alias(AliasName="alias/team-closed", TargetKeyId=keys.closed),
        "kms:CreateAlias",
        keys.closed,
    )


def test_update_alias_needs_the_alias_the_current_key_and_the_new_key(keys: Keys) -> None:
    keys.operator.create_alias(AliasName="alias/team-moving", TargetKeyId=keys.first)
    new_key_only = keys.user("updater", _allow("kms:UpdateAlias", TEAM_ALIASES, keys.second))
    denied(
        lambda: new_key_only.update_alias(AliasName="alias/team-moving", TargetKeyId=keys.second),
        "kms:UpdateAlias",
        keys.first,
    )
    assert _aliases(keys)["alias/team-moving"] == keys.first.split("/")[-1]
    no_alias = keys.user("updater-keys", _allow("kms:UpdateAlias", ALL_KEYS))
    denied(
        lambda: no_alias.update_alias(AliasName="alias/team-moving", TargetKeyId=keys.second),
        "kms:UpdateAlias",
        f"{PREFIX}:alias/team-moving",
    )
    allowed = keys.user("updater-all", _allow("kms:UpdateAlias", TEAM_ALIASES, ALL_KEYS))
    allowed.update_alias(AliasName="alias/team-moving", TargetKeyId=keys.second)
    assert _aliases(keys)["alias/team-moving"] == keys.second.split("/")[-1]


def test_delete_alias_needs_the_alias_and_its_key(keys: Keys) -> None:
    keys.operator.create_alias(AliasName="alias/team-doomed", TargetKeyId=keys.first)
    key_only = keys.user("deleter", _allow("kms:DeleteAlias", ALL_KEYS))
    denied(
        lambda: key_only.delete_alias(AliasName="alias/team-doomed"),
        "kms:DeleteAlias",
        f"{PREFIX}:alias/team-doomed",
    )
    alias_only = keys.user("deleter-alias", _allow("kms:DeleteAlias", TEAM_ALIASES))
    denied(
        lambda: alias_only.delete_alias(AliasName="alias/team-doomed"),
        "kms:DeleteAlias",
        keys.first,
    )
    assert "alias/team-doomed" in _aliases(keys)
    keys.user("deleter-all", _allow("kms:DeleteAlias", TEAM_ALIASES, ALL_KEYS)).delete_alias(
        AliasName="alias/team-doomed"
    )
    assert "alias/team-doomed" not in _aliases(keys)


def test_encrypt_through_an_alias_acts_on_the_key_with_kms_request_alias(keys: Keys) -> None:
    keys.operator.create_alias(AliasName="alias/team-crypto", TargetKeyId=keys.first)
    only_through_alias = keys.user(
        "crypto",
        _allow(
            "kms:Encrypt",
            ALL_KEYS,
            StringEquals={"kms:RequestAlias": "alias/team-crypto"},
        ),
    )
    for key_id in ("alias/team-crypto", f"{PREFIX}:alias/team-crypto"):
        assert only_through_alias.encrypt(KeyId=key_id, Plaintext=b"x")["KeyId"] == keys.first
    denied(
        lambda: only_through_alias.encrypt(KeyId=keys.first, Plaintext=b"x"),
        "kms:Encrypt",
        keys.first,
    )
    # An alias in a Resource element is the alias, not the key it points to.
    on_alias = keys.user("crypto-alias", _allow("kms:Encrypt", f"{PREFIX}:alias/team-crypto"))
    denied(
        lambda: on_alias.encrypt(KeyId="alias/team-crypto", Plaintext=b"x"),
        "kms:Encrypt",
        keys.first,
    )


def test_re_encrypt_needs_from_on_the_source_and_to_on_the_destination(keys: Keys) -> None:
    blob = keys.operator.encrypt(KeyId=keys.first, Plaintext=b"x")["CiphertextBlob"]
    source_only = keys.user(
        "re-encrypter", _allow(["kms:ReEncryptFrom", "kms:ReEncryptTo"], keys.first)
    )
    denied(
        lambda: source_only.re_encrypt(
            CiphertextBlob=blob, SourceKeyId=keys.first, DestinationKeyId=keys.second
        ),
        "kms:ReEncryptTo",
        keys.second,
    )
    both = keys.user(
        "re-encrypter-both",
        _allow("kms:ReEncryptFrom", keys.first),
        _allow("kms:ReEncryptTo", keys.second),
    )
    moved = both.re_encrypt(
        CiphertextBlob=blob, SourceKeyId=keys.first, DestinationKeyId=keys.second
    )
    assert moved["KeyId"] == keys.second
