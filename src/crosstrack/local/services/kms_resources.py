"""The KMS resources a request acts on: keys, and aliases where AWS authorizes on them.

* Alias management — CreateAlias, DeleteAlias, UpdateAlias — needs its action on the alias
  (an IAM policy decides: an alias has no resource policy) *and* on every key the change
  affects (key policy): CreateAlias on the target key, DeleteAlias on the key the alias
  names, UpdateAlias on the current key and on the new one
  (https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html; the Service
  Authorization Reference lists both resource types as required).
* Any other operation acts on the key its ``KeyId`` names — a key id, key ARN, alias name or
  alias ARN, aliases resolved — never on the alias ("When an alias is the value of a
  resource element, the policy applies to the alias resource, not to any KMS key",
  https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html). Where the
  request names the key by an alias, ``kms:RequestAlias`` is the alias name, for the
  actions the reference lists (cryptographic operations, DescribeKey, GetPublicKey:
  https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-request-alias).
  ReEncrypt names two keys: ``kms:ReEncryptFrom`` is on ``SourceKeyId``, ``kms:ReEncryptTo``
  on ``DestinationKeyId``. ListAliases is on ``*`` even with a ``KeyId``.
* Decrypt and ``kms:ReEncryptFrom`` act on the key the ciphertext names, whether or not the
  request names one: "AWS KMS can get the KMS key from metadata that it adds to the
  symmetric ciphertext blob" and authorizes on that key
  (https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html;
  https://docs.aws.amazon.com/kms/latest/cryptographic-details/decrypt-operation.html).
  A ``KeyId`` (Decrypt) or ``SourceKeyId`` (ReEncrypt) that is not that key is refused
  with IncorrectKeyException, as KMS refuses it
  (https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html#API_Decrypt_Errors).
  A blob that names no key the local AWS holds is decided as before — on the named key, or
  on ``*`` — and moto, which cannot decrypt it without its key, refuses it itself.

Pure functions: the key lookup is passed in.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from crosstrack.local.accounts import PARTITION
from crosstrack.local.services.service_resources import Param

_ALIAS_OPERATIONS: Final = frozenset({"CreateAlias", "DeleteAlias", "UpdateAlias"})
# The request parameter that names the key, where it is not KeyId.
_KEY_PARAMETER: Final = {"kms:reencryptfrom": "SourceKeyId", "kms:reencryptto": "DestinationKeyId"}
# The actions that use the key of the ciphertext, and the parameter that may also name it.
CIPHERTEXT_ACTIONS: Final = {"kms:decrypt": "KeyId", "kms:reencryptfrom": "SourceKeyId"}
# Actions that carry kms:RequestAlias (checked against the reference by the tests).
REQUEST_ALIAS_ACTIONS: Final = frozenset(
    {
        "kms:decapsulate",
        "kms:decrypt",
        "kms:derivesharedsecret",
        "kms:describekey",
        "kms:encapsulate",
        "kms:encrypt",
        "kms:generatedatakey",
        "kms:generatedatakeypair",
        "kms:generatedatakeypairwithoutplaintext",
        "kms:generatedatakeywithoutplaintext",
        "kms:generatemac",
        "kms:getpublickey",
        "kms:reencryptfrom",
        "kms:reencryptto",
        "kms:sign",
        "kms:verify",
        "kms:verifymac",
    }
)


@dataclass(frozen=True)
class KmsNeed:
    """One action on one resource, with the condition keys the request adds."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


def alias_name(identifier: str) -> str | None:
    """``alias/<name>`` when ``identifier`` is an alias name or alias ARN, else ``None``."""
    if identifier.startswith("alias/"):
        return identifier
    if identifier.startswith("arn:") and ":alias/" in identifier:
        return "alias/" + identifier.split(":alias/", 1)[1]
    return None


def alias_arn(identifier: str, *, account: str, region: str) -> str:
    """The ARN of an alias given by name (in the caller's account and region) or by ARN."""
    if identifier.startswith("arn:"):
        return identifier
    return f"arn:{PARTITION}:kms:{region}:{account}:{identifier}"


def kms_needs(
    operation: str,
    needed: Sequence[str],
    get: Param,
    *,
    account: str,
    region: str,
    key_arn: Callable[[str], str | None],
    ciphertext_key: str | None = None,
) -> list[KmsNeed]:
    """Every (action, resource, context) a KMS request needs allowed.

    ``ciphertext_key`` is the ARN of the key the request's ``CiphertextBlob`` names, if it
    names one the local AWS holds: Decrypt and ``kms:ReEncryptFrom`` are decided on it.
    """
    if operation == "ListAliases":
        return [KmsNeed(action, "*") for action in needed]
    if operation in _ALIAS_OPERATIONS:
        alias = str(get("AliasName") or "")
        keys = []
        if operation != "CreateAlias":
            keys.append(key_arn(alias))  # the key the alias names now
        target = get("TargetKeyId")
        if operation != "DeleteAlias" and target:
            keys.append(key_arn(str(target)))
        # A key that does not exist is left to KMS (NotFoundException).
        resources = [alias_arn(alias, account=account, region=region)]
        resources += [key for key in dict.fromkeys(keys) if key]
        return [KmsNeed(action, resource) for action in needed for resource in resources]
    needs = []
    for action in needed:
        identifier = str(get(_KEY_PARAMETER.get(action.lower(), "KeyId")) or "")
        resource = (key_arn(identifier) if identifier else None) or "*"
        if ciphertext_key and action.lower() in CIPHERTEXT_ACTIONS:
            resource = ciphertext_key
        requested = alias_name(identifier)
        context = {}
        if requested and action.lower() in REQUEST_ALIAS_ACTIONS:
            context["kms:RequestAlias"] = requested
        needs.append(KmsNeed(action, resource, context))
    return needs


def ciphertext_bytes(value: object) -> bytes | None:
    """A ``CiphertextBlob`` parameter decoded as moto decodes it (``base64.b64decode``,
    non-validating: moto/kms/responses.py ``_get_param``), so that the key read from it is
    the key moto will use; ``None`` when moto could not decode it either."""
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value.encode("utf-8"))
    except ValueError:  # binascii.Error (bad padding) and UnicodeEncodeError (surrogates)
        return None


def incorrect_key(
    operation: str,
    get: Param,
    *,
    ciphertext_key: str | None,
    key_arn: Callable[[str], str | None],
) -> str | None:
    """The ``KeyId`` (Decrypt) or ``SourceKeyId`` (ReEncrypt) that names a key other than
    the ciphertext's — a key KMS refuses with IncorrectKeyException — else ``None``.

    moto's ReEncrypt ignores ``SourceKeyId`` and decrypts with the blob's key, so the
    request must never be authorized on one key and served with another.
    """
    parameter = {"Decrypt": "KeyId", "ReEncrypt": "SourceKeyId"}.get(operation)
    if parameter is None or ciphertext_key is None:
        return None
    identifier = get(parameter)
    if not identifier:
        return None
    return None if key_arn(str(identifier)) == ciphertext_key else str(identifier)
