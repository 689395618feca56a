"""explain on hostile input: wrong-typed CloudTrail fields, garbage lines, terminal escapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crosstrack.cli import app
from crosstrack.doctor.explain import parse_event, parse_text
from crosstrack.doctor.model import DoctorInputError

# Each is valid JSON that is not (quite) a CloudTrail event: a clear error (exit 2), or a
# denial whose unknown fields are None -- never a traceback, never a non-string field.
MALFORMED = [
    '{"Events": [{"CloudTrailEvent": "not json"}]}',
    '{"Events": [{"CloudTrailEvent": 5}]}',
    '{"Events": 5}',
    '{"Events": [5, "x"]}',
    '{"Records": "x"}',
    '{"errorCode": "AccessDenied", "userIdentity": "x", "eventSource": "s3.amazonaws.com"}',
    '{"errorCode": "AccessDenied", "requestParameters": ["a"], "eventSource": 5}',
    '{"errorCode": "AccessDenied", "requestParameters": {"bucketName": "b", "key": 3}}',
    '{"errorCode": "AccessDenied", "errorMessage": 5}',
    '{"errorCode": 5}',
    '{"decision": "denied", "action": 5, "principal": {"a": 1}}',
    '{"decision": ["x"], "action": "s3:GetObject"}',
]


@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_events_never_crash(text: str) -> None:
    try:
        denial = parse_event(text)
    except DoctorInputError:
        return
    for value in (denial.principal, denial.action, denial.resource, denial.blamed):
        assert value is None or isinstance(value, str)
    assert denial.action != ":None"


@pytest.mark.parametrize("text", MALFORMED)
def test_cli_malformed_event_exits_0_or_2_with_json_only_on_stdout(
    text: str, tmp_path: Path
) -> None:
    event = tmp_path / "event.json"
    event.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["doctor", "explain", "--event", str(event), "--json"])
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if result.exit_code == 0:
        json.loads(result.stdout)
    else:
        assert result.stdout == ""
        assert result.stderr.startswith("Error: ")


def test_audit_jsonl_with_garbage_lines_still_finds_the_denial() -> None:
    lines = [
        '{"decision": "allowed", "action": "s3:GetObject"}',
        "garbage {",
        "",
        json.dumps({"decision": "implicitDeny", "action": "s3:PutObject", "principal": "p",
                    "resource": "arn:aws:s3:::b/k", "decided_by": "identity"}),
    ]  # fmt: skip
    denial = parse_event("\n".join(lines))
    assert (denial.action, denial.principal, denial.blamed) == (
        "s3:PutObject",
        "p",
        "identity-based policy",
    )


def test_cloudtrail_event_without_event_name_has_no_action() -> None:
    denial = parse_event('{"errorCode": "AccessDenied", "eventSource": "s3.amazonaws.com"}')
    assert denial.action is None


ESC = "\x1b]0;owned\x07\x1b[31m"


def test_control_characters_in_the_principal_are_not_kept() -> None:
    denial = parse_text(
        f"User: arn:aws:iam::111111111111:user/{ESC}x is not authorized to perform: "
        "s3:PutObject on resource: arn:aws:s3:::b/k\x1b[2J"
    )
    assert denial.principal is not None
    assert denial.resource is not None
    for value in (denial.principal, denial.resource):
        assert not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value)


@pytest.mark.parametrize("as_json", [False, True])
def test_cli_never_echoes_terminal_escapes(as_json: bool, tmp_path: Path) -> None:
    text = (
        f"User: arn:aws:iam::111111111111:user/{ESC}x is not authorized to perform: "
        "s3:PutObject on resource: arn:aws:s3:::b/k"
    )
    event = tmp_path / "audit.jsonl"
    event.write_text(
        json.dumps({"decision": "implicitDeny", "action": "s3:PutObject", "principal": ESC}),
        encoding="utf-8",
    )
    extra = ["--json"] if as_json else []
    for args in (["doctor", "explain", text], ["doctor", "explain", "--event", str(event)]):
        result = CliRunner().invoke(app, [*args, *extra])
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output
        assert "\x07" not in result.output
