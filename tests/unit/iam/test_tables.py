"""One generic runner for the table files in data/: AWS documentation examples as data.

Each file names the AWS page its rows transcribe (``source``). Row kinds:

* ``case``: a full simulate() case (``"@name"`` refers to the file's ``policies``) and the
  expected decision (and optionally decided_by, missing_allow, explanation);
* ``condition``: a Condition block guarding an Allow-everything identity policy; ``expect``
  says whether it holds for ``context``;
* ``element``: Action/NotAction/Resource/NotResource patterns and a value; ``expect`` says
  whether the statement applies.

An ``expect`` object holding ``error`` says the case is an invalid policy: ``simulate`` and the
traced path both raise ``PolicyError`` whose message holds that text (and whose JSON path is
``path``, when given).

An ``expect`` object may also hold ``explanation_contains`` (text of the one-sentence
explanation) and ``trace_contains`` (text of one ``--explain`` line). In a table with
``"every_row_quotes": true`` each row quotes the sentence of the AWS page it implements
(``quote``, ``url``), and says so in ``reading`` where it applies a sentence beyond its words.
Every row is also decided through the traced path, which must give the very same result.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from crosstrack.iam import PolicyError, decide, simulate, trace_lines

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


def test_rows_that_must_quote_the_guide_do() -> None:
    for path in sorted(DATA.glob("*.json")):
        table = json.loads(path.read_text())
        if not table.get("every_row_quotes"):
            continue
        for row in table["rows"]:
            assert len(row.get("quote", "")) > 40, (path.name, row["name"])
            assert row["url"].startswith(table["source"].split("#")[0]), (path.name, row["name"])


@pytest.mark.parametrize(("table", "row"), _load())
def test_table_row(table: dict[str, Any], row: dict[str, Any]) -> None:
    case = _case(table, row)
    expect = row["expect"]
    if isinstance(expect, dict) and "error" in expect:
        for run in (simulate, lambda c: decide(c, trace=True)):
            with pytest.raises(PolicyError) as caught:
                run(case)
            assert expect["error"] in str(caught.value), str(caught.value)
            if "path" in expect:
                assert caught.value.path == expect["path"], caught.value.path
        return
    result = simulate(case)
    traced = decide(case, trace=True)
    assert traced.as_dict() == result, "the traced path must decide as the hot path does"
    if isinstance(expect, bool):
        assert (result["decision"] == "allowed") is expect, result
        if not expect:
            assert result["decision"] == "implicitDeny", result
        return
    for key, value in expect.items():
        if key == "explanation_contains":
            assert value in result["explanation"], result["explanation"]
        elif key == "trace_contains":
            lines = trace_lines(traced)
            assert any(value in line for line in lines), lines
        else:
            assert result[key] == value, (key, result)
    if result["decision"] == "allowed":
        assert result["missing_allow"] == []
    assert result["explanation"]
