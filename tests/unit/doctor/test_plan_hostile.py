"""--plan on files that are not infra/'s plan: exit 2 with one Error line, JSON mode silent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crosstrack.cli import app

BAD_PLANS = {
    "empty": "",
    "whitespace": "  \n",
    "not-json": "{not json",
    "array": "[1, 2]",
    "planned-values-int": '{"planned_values": 5, "prior_state": "x", "variables": []}',
    "child-modules-str": json.dumps(
        {"planned_values": {"root_module": {"resources": [5], "child_modules": "x"}}}
    ),
    "values-wrong-types": json.dumps(
        {
            "planned_values": {
                "root_module": {
                    "child_modules": [
                        {
                            "resources": [
                                {
                                    "address": "module.source.aws_lambda_function.this",
                                    "type": "aws_lambda_function",
                                    "values": {"function_name": 7, "environment": "x"},
                                },
                                {
                                    "address": "module.source.data.aws_caller_identity.current",
                                    "values": {"account_id": "111111111111"},
                                },
                                {
                                    "address": "module.target.data.aws_caller_identity.current",
                                    "values": {"account_id": "222222222222"},
                                },
                            ]
                        }
                    ]
                }
            },
            "variables": {"region": 5},
        }
    ),
    "other-config": json.dumps(
        {
            "format_version": "1.2",
            "planned_values": {
                "root_module": {
                    "resources": [
                        {
                            "address": "aws_s3_bucket.x",
                            "type": "aws_s3_bucket",
                            "values": {"bucket": "foo"},
                        }
                    ]
                }
            },
        }
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_PLANS))
def test_bad_plan_is_exit_2_with_one_error_line(name: str, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(BAD_PLANS[name], encoding="utf-8")
    result = CliRunner().invoke(app, ["doctor", "--plan", str(plan), "--json"])
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.stderr


def test_empty_plan_says_it_is_empty(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text("", encoding="utf-8")
    result = CliRunner().invoke(app, ["doctor", "--plan", str(plan)])
    assert "is empty" in result.stderr
