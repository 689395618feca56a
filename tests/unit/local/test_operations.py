"""Each protocol's own selector names the operation; anything else is no operation."""

from __future__ import annotations

from crosstrack.local.auth import operation_actions, operations
from crosstrack.local.auth.operations import Classified, Unclassified


def _rpc(service: str, **kwargs: object) -> Classified | Unclassified:
    request: dict[str, object] = {
        "method": "POST",
        "raw_path": "/",
        "raw_query": "",
        "headers": {},
        "body": b"",
    }
    request.update(kwargs)
    return operations.classify_rpc(service, **request)  # type: ignore[arg-type]


def test_query_json_and_cbor_selectors() -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    found = _rpc("iam", headers=form, body=b"Action=GetRole&RoleName=r&Version=2010-05-08")
    assert isinstance(found, Classified)
    assert (found.operation, found.params["RoleName"]) == ("GetRole", "r")
    found = _rpc("kms", headers={"x-amz-target": "TrentService.DescribeKey"}, body=b'{"KeyId":"k"}')
    assert isinstance(found, Classified)
    assert (found.operation, found.params["KeyId"]) == ("DescribeKey", "k")
    cbor = _rpc(
        "cloudwatch",
        raw_path="/service/GraniteServiceVersion20100801/operation/DescribeAlarms",
        headers={"smithy-protocol": "rpc-v2-cbor"},
    )
    assert isinstance(cbor, Classified)
    assert (cbor.operation, cbor.protocol) == ("DescribeAlarms", "smithy-rpc-v2-cbor")


def test_unknown_selectors_are_no_operation() -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert isinstance(_rpc("iam", headers=form, body=b"Action=CreateBucket"), Unclassified)
    assert isinstance(_rpc("kms", headers={"x-amz-target": "Other.DescribeKey"}), Unclassified)
    assert isinstance(_rpc("kms", headers={"x-amz-target": "TrentService.Nope"}), Unclassified)
    assert isinstance(_rpc("sts"), Unclassified)  # no Action at all


def test_rest_json_labels_come_back_by_member_name() -> None:
    found = operations.classify_rest(
        "scheduler",
        method="GET",
        raw_path="/schedules/report",
        query={"groupName": "g"},
        headers={},
        body=b"",
        served=operation_actions.served("scheduler"),
    )
    assert isinstance(found, Classified)
    assert found.operation == "GetSchedule"
    assert found.params == {"Name": "report", "GroupName": "g"}


def test_unsupported_operations_say_why() -> None:
    assert operation_actions.unsupported_reason("sts", "AssumeRoleWithSAML")
    assert operation_actions.unsupported_reason("dynamodb", "GetItem")
    assert operation_actions.unsupported_reason("sts", "AssumeRole") is None
    assert operation_actions.actions_for("sts", "GetCallerIdentity") == ()
    assert operation_actions.actions_for("kms", "ReEncrypt") == (
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
    )
