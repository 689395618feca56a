"""Writers of --policies directories: each file exactly as the aws-cli command prints it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

A, B, C = "111111111111", "222222222222", "333333333333"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str | list[str], resource: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def trust(principal: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra})


def role_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


class PolicyDirWriter:
    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, account: str | None, name: str, data: object) -> Path:
        folder = self.root / account if account else self.root
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")
        return path

    def role(
        self,
        account: str,
        name: str,
        trust_policy: dict[str, Any],
        *,
        inline: dict[str, dict[str, Any]] | None = None,
        attached: dict[str, dict[str, Any]] | None = None,
        max_session: int = 3600,
        url_encoded: bool = False,
    ) -> None:
        """get-role (trust as a JSON object, or URL-encoded as the raw API gives it), the
        inline policies, and customer managed policies (get-policy + get-policy-version)."""
        document: object = quote(json.dumps(trust_policy)) if url_encoded else trust_policy
        self.write(account, f"get-role.{name}.json", {"Role": {
            "Path": "/", "RoleName": name,
            "RoleId": f"AROA{name.upper().replace('-', '')[:8]:X<16}",
            "Arn": role_arn(account, name), "CreateDate": "2025-01-01T00:00:00+00:00",
            "AssumeRolePolicyDocument": document, "MaxSessionDuration": max_session,
        }})  # fmt: skip
        inline = inline or {}
        self.write(account, f"list-role-policies.{name}.json", {"PolicyNames": list(inline)})
        for policy, body in inline.items():
            self.write(account, f"get-role-policy.{name}.{policy}.json",
                       {"RoleName": name, "PolicyName": policy,
                        "PolicyDocument": body})  # fmt: skip
        attached = attached or {}
        self.write(account, f"list-attached-role-policies.{name}.json", {"AttachedPolicies": [
            {"PolicyName": p, "PolicyArn": f"arn:aws:iam::{account}:policy/{p}"} for p in attached
        ]})  # fmt: skip
        for policy, body in attached.items():
            arn = f"arn:aws:iam::{account}:policy/{policy}"
            self.write(account, f"get-policy.{policy}.json", {"Policy": {
                "PolicyName": policy, "Arn": arn, "DefaultVersionId": "v2"}})  # fmt: skip
            self.write(account, f"get-policy-version.{policy}.v2.json", {"PolicyVersion": {
                "Document": body, "VersionId": "v2", "IsDefaultVersion": True}})  # fmt: skip

    def policy_string(self, account: str, name: str, policy: dict[str, Any] | None, *,
                      attributes: bool = False) -> None:  # fmt: skip
        """get-bucket-policy / get-key-policy / lambda get-policy: ``Policy`` a JSON string
        (``{}`` when there is none); get-queue/topic-attributes: under ``Attributes``."""
        data: dict[str, Any] = {} if policy is None else {"Policy": json.dumps(policy)}
        self.write(account, name, {"Attributes": data} if attributes else data)
