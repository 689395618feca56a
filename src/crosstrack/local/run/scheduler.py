"""The local EventBridge Scheduler: fires the deployed schedules as the service would.

moto stores schedules but never fires them (field-notes.md). For each firing the local
scheduler does what EventBridge Scheduler does for a Lambda target
(https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets.html):

1. acts as ``scheduler.amazonaws.com`` and assumes the schedule's execution role — the
   role's trust policy is checked by the engine with ``aws:SourceAccount`` and
   ``aws:SourceArn`` (the schedule) set, as a confused-deputy condition expects;
2. with that role's credentials calls Lambda ``Invoke`` (``InvocationType=Event``) through
   the emulator's API, so ``lambda:InvokeFunction`` is decided like any other request;
3. sends the target's input with the context attributes replaced (schedule ARN, scheduled
   time and execution id, plus the attempt number)
   (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html);
   the n-th firing of a schedule is stamped start + n * rate (:func:`tick_time`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError

from crosstrack.errors import InputError
from crosstrack.local.accounts import REGION
from crosstrack.local.emulator import LocalAWS
from crosstrack.local.moto import resources
from crosstrack.local.run.lambda_role import service_client
from crosstrack.local.services.service_access import AccessDeniedError

SCHEDULER_SERVICE = "scheduler.amazonaws.com"
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


class ScheduleError(InputError):
    """A schedule the local scheduler cannot fire (unsupported expression, no target).

    Exit 2: the deployed configuration is input the local AWS cannot use as it is."""


@dataclass(frozen=True)
class ScheduledTarget:
    """One enabled schedule whose target is a Lambda function."""

    name: str
    arn: str
    account: str
    expression: str
    interval: timedelta
    function_arn: str
    role_arn: str
    input_template: str


@dataclass(frozen=True)
class Firing:
    """What happened when a schedule fired once."""

    target: ScheduledTarget
    scheduled_time: datetime
    execution_id: str
    payload: str
    ok: bool
    step: str  # "assume-role" | "invoke" | "invoked"
    error_code: str | None = None
    message: str | None = None


def parse_rate(expression: str) -> timedelta:
    """``rate(5 minutes)`` -> 5 minutes. Only rate expressions are fired locally."""
    match = _RATE.match(expression.strip())
    if match is None:
        raise ScheduleError(
            f"schedule expression {expression!r} is not supported locally; "
            "use rate(N minutes|hours|days)"
        )
    count, unit = int(match.group(1)), match.group(2).rstrip("s")
    if count < 1:
        raise ScheduleError(f"schedule expression {expression!r}: the rate must be at least 1")
    if (count == 1) != (not match.group(2).endswith("s")):
        # AWS: "rate(1 minute)" but "rate(5 minutes)"; anything else is rejected there too.
        raise ScheduleError(f"schedule expression {expression!r}: use a singular unit for 1 only")
    return timedelta(seconds=count * _UNITS[unit])


def tick_time(start: datetime, n: int, interval: timedelta) -> datetime:
    """The scheduled time of run ``n`` (0 = the first) of a rate schedule started at ``start``.

    EventBridge Scheduler fires a rate schedule at start, start + rate, start + 2 * rate, ...
    and sends that time as ``<aws.scheduler.scheduled-time>``; the local scheduler stamps
    its n-th firing the same way however fast it fires, so each run keeps its own
    idempotency key (schedule ARN + scheduled time).
    """
    if n < 0:
        raise ValueError(f"run number must be 0 or more, not {n}")
    return start + n * interval


def render_input(
    template: str, *, schedule_arn: str, scheduled_time: datetime, execution_id: str, attempt: int
) -> str:
    """The target input with Scheduler's context attributes replaced."""
    values = {
        "<aws.scheduler.schedule-arn>": schedule_arn,
        "<aws.scheduler.scheduled-time>": scheduled_time.astimezone(UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        "<aws.scheduler.execution-id>": execution_id,
        "<aws.scheduler.attempt-number>": str(attempt),
    }
    for keyword, value in values.items():
        template = template.replace(keyword, value)
    return template


def discover(account: str, region: str = REGION) -> list[ScheduledTarget]:
    """The enabled schedules of ``account`` that target a Lambda function (moto's backend)."""
    found = []
    for schedule in resources.schedules(account, region):
        target = schedule.target
        arn = str(target.get("Arn", ""))
        if schedule.state != "ENABLED" or ":lambda:" not in arn or ":function:" not in arn:
            continue
        found.append(
            ScheduledTarget(
                name=schedule.name,
                arn=schedule.arn,
                account=account,
                expression=schedule.expression,
                interval=parse_rate(schedule.expression),
                function_arn=arn,
                role_arn=str(target.get("RoleArn", "")),
                input_template=str(target.get("Input") or "{}"),
            )
        )
    return sorted(found, key=lambda t: t.name)


def fire(aws: LocalAWS, target: ScheduledTarget, scheduled_time: datetime) -> Firing:
    """Fire ``target`` once for ``scheduled_time``; the invocation itself runs async."""
    execution_id = uuid.uuid4().hex[:16]  # Scheduler's ids look like d32c5kddcf5bb8c3
    payload = render_input(
        target.input_template,
        schedule_arn=target.arn,
        scheduled_time=scheduled_time,
        execution_id=execution_id,
        attempt=1,
    )

    def result(ok: bool, step: str, code: str | None = None, message: str | None = None) -> Firing:
        return Firing(target, scheduled_time, execution_id, payload, ok, step, code, message)

    try:
        creds = aws.services.assume_role(
            SCHEDULER_SERVICE,
            target.role_arn,
            source_account=target.account,
            source_arn=target.arn,
        )
    except AccessDeniedError as exc:
        return result(False, "assume-role", "AccessDenied", str(exc))
    client = service_client(aws, creds, "lambda", target.function_arn.split(":")[3])
    try:
        client.invoke(
            FunctionName=target.function_arn, InvocationType="Event", Payload=payload.encode()
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return result(False, "invoke", error.get("Code"), error.get("Message"))
    except BotoCoreError as exc:
        return result(False, "invoke", type(exc).__name__, str(exc))
    return result(True, "invoked")
