# Offline checks of infra/'s wiring with mock providers (run by tests/integration/test_infra_static.py
# through `terraform test`). Mock providers invent policy JSON, so nothing here asserts on policy
# documents: those are decided on a real plan by crosstrack.iam (tests/integration/test_infra_deploy.py).

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111111111111" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111111111111:role/connect-to-bridge" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:us-east-1:111111111111:function:write-report-to-crossaccount-s3" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:us-east-1:111111111111:write-report-to-crossaccount-s3-failures" }
  }
}

mock_provider "aws" {
  alias = "account_b"

  mock_data "aws_caller_identity" {
    defaults = { account_id = "222222222222" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::222222222222:role/access-s3-bucket" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = {
      id  = "iss-reporting-mock"
      arn = "arn:aws:s3:::iss-reporting-mock"
    }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-east-1:222222222222:key/00000000-0000-0000-0000-000000000000" }
  }
}

variables {
  account_b_id    = "222222222222"
  lambda_zip_path = "tests/fixtures/placeholder.zip"
}

run "defaults_follow_the_design" {
  command = apply

  assert {
    condition     = module.source.function_name == "write-report-to-crossaccount-s3" && module.source.log_group_name == "/aws/lambda/write-report-to-crossaccount-s3"
    error_message = "function and log group names must be design.md's"
  }
  assert {
    condition     = module.source.execution_role_name == "connect-to-bridge" && module.target.role_name == "access-s3-bucket"
    error_message = "role names must be design.md's"
  }
  assert {
    condition = (
      module.source.function_configuration.handler == "crosstrack.reporter.handler.lambda_handler" &&
      module.source.function_configuration.timeout == 30 &&
      module.source.function_configuration.runtime == "python3.12" &&
      module.source.function_configuration.architectures == tolist(["arm64"])
    )
    error_message = "handler, 30 s timeout, python3.12 and arm64 are the defaults"
  }
  assert {
    condition     = module.source.function_configuration.source_code_hash == filebase64sha256("tests/fixtures/placeholder.zip")
    error_message = "source_code_hash must be filebase64sha256 of the zip (field-notes defect 6)"
  }
  assert {
    condition = module.source.function_configuration.environment == tomap({
      ACCOUNT2_ROLE_ARN        = "arn:aws:iam::222222222222:role/access-s3-bucket"
      BUCKET_NAME              = "iss-reporting-mock"
      BUCKET_REGION            = "us-east-1"
      OBJECT_KEY               = "iss_position.txt"
      LOG_FORMAT               = "text"
      LOG_LAYOUT               = "single"
      ISS_SOURCES              = "open-notify,wheretheiss,tle"
      ROLE_SESSION_PREFIX      = "crosstrack"
      HTTP_TIMEOUT_SECONDS     = "3"
      MAX_POSITION_AGE_SECONDS = "600"
      MAX_TLE_AGE_DAYS         = "14"
    })
    error_message = "the function's environment must be design.md's table with its defaults (no EXTERNAL_ID unless set)"
  }
  assert {
    condition     = module.source.schedule.expression == "rate(5 minutes)"
    error_message = "the schedule runs every 5 minutes"
  }
  assert {
    # The raw text, byte for byte (design.md, Events): Scheduler substitutes its context
    # attributes in the raw text, so they must not be escaped (jsonencode would write
    # \u003c and \u003e), and the idempotency key is schedule ARN + scheduled time.
    condition     = module.source.schedule.input == "{\"schedule_arn\":\"<aws.scheduler.schedule-arn>\",\"scheduled_time\":\"<aws.scheduler.scheduled-time>\",\"execution_id\":\"<aws.scheduler.execution-id>\"}"
    error_message = "the schedule must send design.md's Scheduler input, literally"
  }
  assert {
    condition     = module.source.failure_handling.max_retry_attempts == 2 && module.source.failure_handling.log_retention_days == 365
    error_message = "bounded retries and log retention defaults"
  }
  assert {
    condition     = module.target.bucket_settings.force_destroy == false && module.target.bucket_settings.bucket_prefix == "iss-reporting-"
    error_message = "the bucket is named from iss-reporting- and never force-destroyed by default"
  }
  assert {
    condition     = tolist(module.target.log_object_arns) == tolist(["arn:aws:s3:::iss-reporting-mock/iss_position.txt"])
    error_message = "role B's object grant must be the log object only"
  }
  assert {
    condition     = module.target.kms_key_arn == null
    error_message = "SSE-S3 by default"
  }
}

run "external_id_reaches_the_function" {
  command = apply

  variables {
    external_id = "crosstrack-iss-reporting"
  }

  assert {
    condition     = module.source.function_configuration.environment["EXTERNAL_ID"] == "crosstrack-iss-reporting"
    error_message = "EXTERNAL_ID must be set when external_id is"
  }
}

run "daily_layout_grants_the_stem_prefix_only" {
  command = apply

  variables {
    log_layout = "daily"
    object_key = "logs/iss_position.txt"
    log_format = "jsonl"
  }

  assert {
    condition     = tolist(module.target.log_object_arns) == tolist(["arn:aws:s3:::iss-reporting-mock/logs/iss_position/*"])
    error_message = "daily layout: <stem>/YYYY/MM/DD<suffix>, so the grant is <stem>/*"
  }
  assert {
    condition     = module.source.function_configuration.environment["LOG_LAYOUT"] == "daily" && module.source.function_configuration.environment["LOG_FORMAT"] == "jsonl"
    error_message = "layout and format reach the function"
  }
}

run "max_tle_age_reaches_the_function" {
  command = apply

  variables {
    max_tle_age_days = 3650
  }

  assert {
    condition     = module.source.function_configuration.environment["MAX_TLE_AGE_DAYS"] == "3650"
    error_message = "max_tle_age_days must reach the function as MAX_TLE_AGE_DAYS"
  }
}

run "rejects_a_zero_tle_age" {
  command = plan
  variables {
    max_tle_age_days = 0
  }
  expect_failures = [var.max_tle_age_days]
}

run "kms_key_when_asked" {
  command = apply

  variables {
    bucket_kms_key_enabled = true
  }

  assert {
    condition     = module.target.kms_key_arn != null
    error_message = "a customer managed key is created when asked"
  }
  assert {
    # infra/bootstrap/'s deploy role may create and manage only keys tagged so.
    condition     = module.target.kms_key_tags["crosstrack-deploy"] == "iss-reporting-"
    error_message = "the key must carry the crosstrack-deploy = <bucket_prefix> tag the deploy role requires"
  }
}

run "rejects_a_bad_account_id" {
  command = plan
  variables {
    account_b_id = "12345"
  }
  expect_failures = [var.account_b_id]
}

run "rejects_a_wildcard_object_key" {
  command = plan
  variables {
    object_key = "logs/*"
  }
  expect_failures = [var.object_key]
}

run "rejects_an_unknown_architecture" {
  command = plan
  variables {
    lambda_architecture = "x86"
  }
  expect_failures = [var.lambda_architecture]
}

run "rejects_duplicate_sources" {
  command = plan
  variables {
    iss_sources = ["tle", "tle"]
  }
  expect_failures = [var.iss_sources]
}

run "rejects_a_retention_cloudwatch_does_not_offer" {
  command = plan
  variables {
    log_retention_days = 42
  }
  expect_failures = [var.log_retention_days]
}

run "rejects_a_malformed_external_id" {
  command = plan
  variables {
    external_id = "has spaces"
  }
  expect_failures = [var.external_id]
}
