# Account A: the reporter function and everything that runs, schedules, records and watches it.
#
# Role A ("connect-to-bridge") may be assumed by the Lambda service for functions of this
# account only, and may do three things: assume role B (nothing else in any account), write
# its own log stream, and hand a failed event to its own failure queue.

data "aws_caller_identity" "current" {}

locals {
  account_id     = data.aws_caller_identity.current.account_id
  log_group_name = "/aws/lambda/${var.function_name}"
  log_group_arn  = "arn:${var.aws_partition}:logs:${var.region}:${local.account_id}:log-group:${local.log_group_name}"
  # Built from names, not from the resources, so trust policies can name them before they exist.
  schedule_arn = "arn:${var.aws_partition}:scheduler:${var.region}:${local.account_id}:schedule/default/${var.function_name}"
  # The function's own ARN, from names too: role A's policy names it, and referencing the
  # function resource would be a cycle (the function depends on role A's policy).
  function_arn = "arn:${var.aws_partition}:lambda:${var.region}:${local.account_id}:function:${var.function_name}"

  # design.md, "Reporter configuration". EXTERNAL_ID is present only when set (the
  # reporter treats an unset variable as "send no ExternalId").
  environment = merge(
    {
      ACCOUNT2_ROLE_ARN        = var.target_role_arn
      BUCKET_NAME              = var.bucket_name
      BUCKET_REGION            = var.region
      OBJECT_KEY               = var.reporter.object_key
      LOG_FORMAT               = var.reporter.log_format
      LOG_LAYOUT               = var.reporter.log_layout
      ISS_SOURCES              = join(",", var.reporter.iss_sources)
      ROLE_SESSION_PREFIX      = var.reporter.role_session_prefix
      HTTP_TIMEOUT_SECONDS     = tostring(var.reporter.http_timeout_seconds)
      MAX_POSITION_AGE_SECONDS = tostring(var.reporter.max_position_age_seconds)
      MAX_TLE_AGE_DAYS         = tostring(var.reporter.max_tle_age_days)
    },
    var.reporter.external_id == null ? {} : { EXTERNAL_ID = var.reporter.external_id },
  )

  alarm_actions = concat(var.alarm_topic_arns, aws_sns_topic.alarms[*].arn)
}

# ---------------------------------------------------------------------------------------
# Role A: the execution role
# ---------------------------------------------------------------------------------------

data "aws_iam_policy_document" "lambda_trust" {
  # Only the Lambda service, and only on behalf of this account's functions: the
  # aws:SourceAccount condition stops another account's function from being configured
  # with this role's ARN (the confused-deputy problem). No ec2.amazonaws.com, no managed
  # policies (field-notes.md, defect 4).
  statement {
    sid     = "LambdaServiceForThisAccountOnly"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "execution" {
  name = var.execution_role_name
  # No reference to role B here: role B's trust names this role, so this role must not
  # depend on role B (its permission to assume role B is the separate policy below).
  description        = "Execution role of ${var.function_name}: may assume the crosstrack target role and nothing else."
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

data "aws_iam_policy_document" "execution" {
  # Only from inside this function: Lambda attaches lambda:SourceFunctionArn to the
  # credentials it issues to a function, so another function given role A, or anyone
  # assuming role A any other way, cannot reach role B. The key works in identity policies
  # (not in trust policies): https://docs.aws.amazon.com/lambda/latest/dg/permissions-source-function-arn.html
  statement {
    sid       = "AssumeOnlyRoleBOnlyFromTheReporterFunction"
    effect    = "Allow"
    actions   = ["sts:AssumeRole"]
    resources = [var.target_role_arn]

    condition {
      test     = "ArnEquals"
      variable = "lambda:SourceFunctionArn"
      values   = [local.function_arn]
    }
  }

  # The log group is created below (with retention), so the function needs neither
  # logs:CreateLogGroup nor access to any other group.
  statement {
    sid       = "WriteOwnLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:*"]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "assume-target-role-and-log"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# Lambda sends the on-failure record with the execution role's credentials. A policy of
# its own, so the function does not wait for the queue (whose creation the provider holds
# for ~25 s while its attributes settle): only the event invoke config needs both.
data "aws_iam_policy_document" "failures" {
  statement {
    sid       = "ReportFailuresToOwnQueue"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]
  }
}

resource "aws_iam_role_policy" "failures" {
  name   = "report-failures"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.failures.json
}

# ---------------------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------------------

# Created here rather than by Lambda on first run so it has a retention (Lambda's own
# group never expires) and so role A needs no logs:CreateLogGroup.
resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
}

# ---------------------------------------------------------------------------------------
# The function
# ---------------------------------------------------------------------------------------

resource "aws_lambda_function" "this" {
  function_name = var.function_name
  description   = "crosstrack: appends the ISS position to the log in account B every run."
  role          = aws_iam_role.execution.arn
  handler       = "crosstrack.reporter.handler.lambda_handler"
  runtime       = var.lambda_runtime
  architectures = [var.lambda_architecture]
  memory_size   = var.lambda_memory_size
  timeout       = var.lambda_timeout

  # The zip comes from `crosstrack package` (deterministic bytes), so the hash changes
  # only when the code or its pinned dependencies do, and a code change is an in-place
  # update: the schedule keeps pointing at the same function (field-notes.md, defect 6).
  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)

  environment {
    variables = local.environment
  }

  # The log group must exist before the first invocation (or Lambda would create one
  # without retention), and role A must be able to write to it.
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.execution]
}

# ---------------------------------------------------------------------------------------
# Failure handling: bounded retries, a failure queue, alarms
# ---------------------------------------------------------------------------------------

resource "aws_sqs_queue" "failures" {
  name = "${var.function_name}-failures"
  # Long enough to investigate after a weekend.
  message_retention_seconds = 1209600
  # A failure record is the event plus an error message: far below 256 KiB. Explicit
  # because the service default changed (to 1 MiB) after provider 5.100 was released.
  max_message_size        = 262144
  sqs_managed_sse_enabled = true
}

# Scheduled invocations are asynchronous: Lambda retries a failed one (the reporter is
# idempotent per schedule ARN + scheduled time, so a retry never appends twice) and then
# records the event with its error in the failure queue.
resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.async_max_retry_attempts
  maximum_event_age_in_seconds = var.async_max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failures.arn
    }
  }

  # The role must be allowed to send to the destination before failures can land there.
  depends_on = [aws_iam_role_policy.failures]
}

resource "aws_sns_topic" "alarms" {
  count = var.alarm_email == null ? 0 : 1

  name = "${var.function_name}-alarms"
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name        = "${var.function_name}-errors"
  alarm_description = "The reporter failed at least once in 5 minutes (its log line says why; `crosstrack doctor` explains trust-chain failures)."
  namespace         = "AWS/Lambda"
  metric_name       = "Errors"
  dimensions = {
    FunctionName = aws_lambda_function.this.function_name
  }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "failures" {
  alarm_name          = "${var.function_name}-failures-queued"
  alarm_description   = "A scheduled run failed after every retry (or could not be delivered) and waits in ${aws_sqs_queue.failures.name}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.failures.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# ---------------------------------------------------------------------------------------
# The schedule (EventBridge Scheduler; why not a rule: docs/deploy.md)
# ---------------------------------------------------------------------------------------

data "aws_iam_policy_document" "scheduler_trust" {
  statement {
    sid     = "SchedulerForThisScheduleOnly"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.schedule_arn]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.function_name}-scheduler"
  description        = "Lets the ${var.function_name} schedule invoke that function and nothing else."
  assume_role_policy = data.aws_iam_policy_document.scheduler_trust.json
}

data "aws_iam_policy_document" "scheduler" {
  # An identity grant on the function's (unqualified, name-based) ARN survives a
  # replacement of the function, unlike a Lambda resource-policy statement.
  statement {
    sid       = "InvokeTheReporterOnly"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.this.arn]
  }

  statement {
    sid       = "DeadLetterUndeliveredRuns"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "invoke-reporter"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "this" {
  name        = var.function_name
  group_name  = "default"
  description = "Invokes ${var.function_name} on ${var.schedule_expression}."
  state       = var.schedule_enabled ? "ENABLED" : "DISABLED"

  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = "UTC"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.this.arn
    role_arn = aws_iam_role.scheduler.arn
    # design.md, "Events": the reporter's idempotency key is schedule ARN + scheduled time,
    # the same on every retried delivery of one run (the execution id is unique per
    # *attempt*, so it is sent for the log only). A literal string, never jsonencode():
    # jsonencode escapes < and > as \u003c and \u003e, Scheduler replaces its context
    # attributes in the raw text, so they would never be substituted and every run would
    # carry the same literal key (and be dropped as a duplicate after the first). The local
    # scheduler substitutes the same way.
    input = "{\"schedule_arn\":\"<aws.scheduler.schedule-arn>\",\"scheduled_time\":\"<aws.scheduler.scheduled-time>\",\"execution_id\":\"<aws.scheduler.execution-id>\"}"

    # Scheduler's own retries cover only failures to hand the event to Lambda (throttling,
    # a missing permission); failures inside the function are Lambda's retries above.
    retry_policy {
      maximum_event_age_in_seconds = var.async_max_event_age_seconds
      maximum_retry_attempts       = 3
    }

    dead_letter_config {
      arn = aws_sqs_queue.failures.arn
    }
  }

  # The role must be able to invoke before the first run is due.
  depends_on = [aws_iam_role_policy.scheduler]
}
