"""One generic runner for the table files in data/: AWS documentation examples as data.

Each file names the AWS page its rows transcribe (``source``). Row kinds:

* ``case``: a full simulate() case (``"@name"`` refers to the file's ``policies``) and the
  expected decision (and optionally decided_by, missing_allow, explanation);
* ``condition``: a Condition block guarding an Allow-everything identity policy; ``expect``
  says whether it holds for ``context``;
* ``element``: Action/NotAction/Resource/NotResource patterns and a value; ``expect`` says
  whether the statement applies.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from crosstrack.iam import simulate

DATA = Path(__file__).parent / "data"
USER = "arn:aws:iam::111122223333:user/alice"
OBJECT = "arn:aws:s3:::bucket/x"


def _load() -> list[Any]:
    params = []
    for path in sorted(DATA.glob("*.json")):
        table = json.loads(path.read_text())
        for row in table["rows"]:
            params.append(pytest.param(table, row, id=f"{path.stem}: {row['name']}"))
    return params


def _resolve(value: Any, policies: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("@"):
        return policies[value[1:]]
    if isinstance(value, list):
        return [_resolve(v, policies) for v in value]
    return value


def _case(table: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    policies = table.get("policies", {})
    if "case" in row:
        return {key: _resolve(value, policies) for key, value in row["case"].items()}
    version = row.get("version", "2012-10-17")
    statement: dict[str, Any] = {"Effect": "Allow"}
    action, resource = "s3:GetObject", OBJECT
    if "condition" in row:
        statement.update(Action="*", Resource="*", Condition=row["condition"])
    else:
        element = row["element"]
        statement[element] = row["patterns"]
        if element in ("Action", "NotAction"):
            statement["Resource"] = "*"
            action = row["value"]
        else:
            statement["Action"] = "*"
            resource = row["value"]
    request = {
        "principal": row.get("principal", USER),
        "action": action,
        "resource": resource,
        "context": row.get("context", {}),
    }
    parts = resource.split(":", 5)
    if len(parts) < 6 or not re.fullmatch(r"\d{12}", parts[4]):
        request["resource_account"] = "111122223333"  # S3 ARNs carry no account
    return {
        "request": request,
        "identity_policies": [{"Version": version, "Statement": [statement]}],
    }


def test_every_table_cites_an_aws_page() -> None:
    tables = [json.loads(p.read_text()) for p in sorted(DATA.glob("*.json"))]
    assert len(tables) >= 6
    for table in tables:
        assert table["source"].startswith("https://docs.aws.amazon.com/"), table["source"]
        assert table["rows"]


@pytest.mark.parametrize(("table", "row"), _load())
def test_table_row(table: dict[str, Any], row: dict[str, Any]) -> None:
    result = simulate(_case(table, row))
    expect = row["expect"]
    if isinstance(expect, bool):
        assert (result["decision"] == "allowed") is expect, result
        if not expect:
            assert result["decision"] == "implicitDeny", result
        return
    for key, value in expect.items():
        assert result[key] == value, (key, result)
    if result["decision"] == "allowed":
        assert result["missing_allow"] == []
    assert result["explanation"]
