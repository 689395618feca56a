# ---------------------------------------------------------------------------------------
# Accounts, region, deploy access
# ---------------------------------------------------------------------------------------

variable "region" {
  description = "AWS region of both accounts' resources (the bucket's region is passed to the function as BUCKET_REGION)."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region code such as us-east-1."
  }
}

variable "aws_partition" {
  description = "AWS partition of both accounts (aws, aws-cn, aws-us-gov); used to build ARNs before any resource exists."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "aws-cn", "aws-us-gov"], var.aws_partition)
    error_message = "aws_partition must be one of aws, aws-cn, aws-us-gov."
  }
}

variable "account_a_id" {
  description = "Optional 12-digit id of account A (source). When set, Terraform refuses to run with credentials of any other account."
  type        = string
  default     = null

  validation {
    condition     = var.account_a_id == null || can(regex("^[0-9]{12}$", var.account_a_id))
    error_message = "account_a_id must be a 12-digit AWS account id (keep the leading zeros, quote it)."
  }
}

variable "account_b_id" {
  description = "12-digit id of account B (target): the account that owns the log bucket and role B."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_b_id))
    error_message = "account_b_id must be a 12-digit AWS account id (keep the leading zeros, quote it)."
  }
}

variable "account_b_deploy_role" {
  description = "Name (optionally with path) of the role in account B that Terraform assumes to deploy there; created once from infra/bootstrap/."
  type        = string
  default     = "terraform"

  validation {
    condition     = can(regex("^([\\x21-\\x7e]*/)?[A-Za-z0-9+=,.@_-]{1,64}$", var.account_b_deploy_role))
    error_message = "account_b_deploy_role must be an IAM role name (1-64 of letters, digits and +=,.@_-), optionally prefixed by a path."
  }
}

variable "tags" {
  description = "Extra tags for every resource in both accounts (Project = crosstrack is always added)."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------
# Names (design.md, "Names")
# ---------------------------------------------------------------------------------------

variable "source_role_name" {
  description = "Name of role A, the function's execution role in account A."
  type        = string
  default     = "connect-to-bridge"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.source_role_name))
    error_message = "source_role_name must be 1-64 letters, digits or +=,.@_-."
  }
}

variable "target_role_name" {
  description = "Name of role B, the role in account B that role A assumes to write the log."
  type        = string
  default     = "access-s3-bucket"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.target_role_name))
    error_message = "target_role_name must be 1-64 letters, digits or +=,.@_-."
  }
}

variable "target_role_permissions_boundary_arn" {
  description = "Permissions boundary of role B; null is the bootstrap's crosstrack-target-role-boundary in account B (infra/bootstrap/target-role-boundary.json), which B's deploy role requires."
  type        = string
  default     = null

  validation {
    # A customer managed policy of account B (or an AWS managed one), never a pattern.
    condition     = var.target_role_permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,128}$", var.target_role_permissions_boundary_arn))
    error_message = "target_role_permissions_boundary_arn must be the ARN of an IAM managed policy (arn:aws:iam::<account>:policy/<name>)."
  }
}

variable "function_name" {
  description = "Name of the Lambda function; also names its log group (/aws/lambda/<name>), schedule, failure queue and alarms."
  type        = string
  default     = "write-report-to-crossaccount-s3"

  validation {
    # 64 is Lambda's limit; 55 leaves room for the "-scheduler" role and "-failures" queue names.
    condition     = can(regex("^[A-Za-z0-9_-]{1,55}$", var.function_name))
    error_message = "function_name must be 1-55 letters, digits, hyphens or underscores."
  }
}

# ---------------------------------------------------------------------------------------
# Lambda artifact (design.md, "Lambda artifact"): must match `crosstrack package`
# ---------------------------------------------------------------------------------------

variable "lambda_zip_path" {
  description = "Path of the zip built by `crosstrack package` (relative to the directory terraform runs in)."
  type        = string
  default     = "../dist/lambda.zip"

  validation {
    condition     = endswith(var.lambda_zip_path, ".zip")
    error_message = "lambda_zip_path must name a .zip file built by `crosstrack package`."
  }
}

variable "lambda_runtime" {
  description = "Lambda Python runtime; must match `crosstrack package --python` (python3.12 <-> --python 3.12)."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be python3.11, python3.12 or python3.13 (the reporter needs Python >= 3.11)."
  }
}

variable "lambda_architecture" {
  description = "Lambda instruction set; must match `crosstrack package --arch` (sgp4 ships a native extension)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "lambda_memory_size" {
  description = "Memory of the function in MB (CPU scales with it)."
  type        = number
  default     = 256

  validation {
    condition     = var.lambda_memory_size >= 128 && var.lambda_memory_size <= 10240 && floor(var.lambda_memory_size) == var.lambda_memory_size
    error_message = "lambda_memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "lambda_timeout" {
  description = "Function timeout in seconds. 30 covers three live sources at HTTP_TIMEOUT_SECONDS=3 each, the offline fallback and S3 conflict retries."
  type        = number
  default     = 30

  validation {
    condition     = var.lambda_timeout >= 10 && var.lambda_timeout <= 900 && floor(var.lambda_timeout) == var.lambda_timeout
    error_message = "lambda_timeout must be a whole number of seconds from 10 to 900."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's CloudWatch log group, in days (one of the values CloudWatch Logs accepts)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

# ---------------------------------------------------------------------------------------
# Schedule and failure handling
# ---------------------------------------------------------------------------------------

variable "schedule_expression" {
  description = "EventBridge Scheduler expression: rate(...) or cron(...)."
  type        = string
  default     = "rate(5 minutes)"

  validation {
    condition     = can(regex("^(rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)|cron\\(.+\\))$", var.schedule_expression))
    error_message = "schedule_expression must look like rate(5 minutes) or cron(0/5 * * * ? *)."
  }
}

variable "schedule_enabled" {
  description = "Whether the schedule is enabled (disable it to pause reporting without destroying anything)."
  type        = bool
  default     = true
}

variable "async_max_retry_attempts" {
  description = "Retries Lambda makes of a failed scheduled invocation (0-2). Safe: the reporter is idempotent per scheduled run (schedule ARN + scheduled time)."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.async_max_retry_attempts)
    error_message = "async_max_retry_attempts must be 0, 1 or 2 (Lambda's limits)."
  }
}

variable "async_max_event_age_seconds" {
  description = "How long a scheduled event may wait for (re)delivery before it goes to the failure queue, in seconds (60-21600)."
  type        = number
  default     = 900

  validation {
    condition     = var.async_max_event_age_seconds >= 60 && var.async_max_event_age_seconds <= 21600 && floor(var.async_max_event_age_seconds) == var.async_max_event_age_seconds
    error_message = "async_max_event_age_seconds must be a whole number from 60 to 21600."
  }
}

variable "alarm_email" {
  description = "Optional e-mail address subscribed (after confirming) to the alarms on function errors and failure-queue depth."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address."
  }
}

variable "alarm_topic_arns" {
  description = "Existing SNS topic ARNs (in account A) to notify from the alarms, in addition to alarm_email."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.alarm_topic_arns : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", arn))])
    error_message = "alarm_topic_arns must contain SNS topic ARNs."
  }
}

# ---------------------------------------------------------------------------------------
# Account B: bucket and role B's trust
# ---------------------------------------------------------------------------------------

variable "bucket_prefix" {
  description = "Prefix of the generated bucket name (S3 appends a unique suffix). Ignored when bucket_name is set."
  type        = string
  default     = "iss-reporting-"

  validation {
    # S3 appends 26 characters; bucket names are at most 63.
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{0,36}$", var.bucket_prefix)) && !strcontains(var.bucket_prefix, "..")
    error_message = "bucket_prefix must be 1-37 lowercase letters, digits, '.' or '-', starting with a letter or digit."
  }
}

variable "bucket_name" {
  description = "Explicit bucket name instead of bucket_prefix; set it to adopt an existing bucket (the original deployment's, see docs/deploy.md)."
  type        = string
  default     = null

  validation {
    condition = var.bucket_name == null || (
      can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)) &&
      !strcontains(coalesce(var.bucket_name, "x"), "..") &&
      !can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$", coalesce(var.bucket_name, "x")))
    )
    error_message = "bucket_name must be a valid S3 bucket name: 3-63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit, not an IP address."
  }
}

variable "bucket_force_destroy" {
  description = "Let `terraform destroy` delete the bucket with every logged position and version in it. Keep false outside throw-away environments."
  type        = bool
  default     = false
}

variable "noncurrent_version_retention_days" {
  description = "Days a previous version of the log object is kept (versioning is the undo for a bad write). Each write of the single layout leaves a full copy behind: see docs/deploy.md."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_retention_days >= 1 && var.noncurrent_version_retention_days <= 3650 && floor(var.noncurrent_version_retention_days) == var.noncurrent_version_retention_days
    error_message = "noncurrent_version_retention_days must be a whole number from 1 to 3650."
  }
}

variable "bucket_lifecycle_enabled" {
  description = "Expire noncurrent log versions and abandoned uploads (see noncurrent_version_retention_days). Keep true: without it every append of the single layout leaves a full copy behind forever. Only throw-away environments (the local demo) turn it off, because the AWS provider waits about a minute for a new lifecycle configuration to settle."
  type        = bool
  default     = true
}

variable "bucket_kms_key_enabled" {
  description = "Encrypt the bucket with a new customer managed KMS key (key policy grants role B only Decrypt/GenerateDataKey through S3) instead of SSE-S3."
  type        = bool
  default     = false
}

variable "external_id" {
  description = "Optional sts:ExternalId: role B's trust then requires it, and the function sends it (EXTERNAL_ID)."
  type        = string
  default     = null

  validation {
    # 2-1224 characters, written as {2,1000} + {0,224}: RE2 caps a repetition count at 1000.
    condition     = var.external_id == null || can(regex("^[A-Za-z0-9+=,.@:/_-]{2,1000}[A-Za-z0-9+=,.@:/_-]{0,224}$", var.external_id))
    error_message = "external_id must be 2-1224 characters of letters, digits and +=,.@:/_-."
  }
}

variable "trusted_principal_org_id" {
  description = "Optional AWS Organizations id (o-...): role B's trust then also requires aws:PrincipalOrgID to match."
  type        = string
  default     = null

  validation {
    condition     = var.trusted_principal_org_id == null || can(regex("^o-[a-z0-9]{10,32}$", var.trusted_principal_org_id))
    error_message = "trusted_principal_org_id must be an organization id such as o-a1b2c3d4e5."
  }
}

# ---------------------------------------------------------------------------------------
# Reporter configuration (design.md, "Reporter configuration"): the function's environment
# ---------------------------------------------------------------------------------------

variable "object_key" {
  description = "OBJECT_KEY: the log object (single layout) or key stem (daily layout: <stem>/YYYY/MM/DD<suffix>). Role B may touch only this key (or the stem's prefix)."
  type        = string
  default     = "iss_position.txt"

  validation {
    # Stricter than S3: '*', '?' and '$' would turn role B's resource ARN into a wildcard or a
    # policy variable, widening what it may touch.
    condition     = can(regex("^[A-Za-z0-9!_()'-][A-Za-z0-9!_.()'-]*(/[A-Za-z0-9!_()'-][A-Za-z0-9!_.()'-]*)*$", var.object_key)) && length(var.object_key) <= 900
    error_message = "object_key must be up to 900 characters of letters, digits and !_.()'- in '/'-separated segments (no leading, trailing or double '/', no segment starting with '.', no '*', '?' or '$')."
  }
}

variable "log_format" {
  description = "LOG_FORMAT: text (the original's format) or jsonl (full provenance)."
  type        = string
  default     = "text"

  validation {
    condition     = contains(["text", "jsonl"], var.log_format)
    error_message = "log_format must be text or jsonl."
  }
}

variable "log_layout" {
  description = "LOG_LAYOUT: single (one object) or daily (one object per UTC day under the key stem)."
  type        = string
  default     = "single"

  validation {
    condition     = contains(["single", "daily"], var.log_layout)
    error_message = "log_layout must be single or daily."
  }
}

variable "iss_sources" {
  description = "ISS_SOURCES: position sources tried in order (open-notify, wheretheiss, tle)."
  type        = list(string)
  default     = ["open-notify", "wheretheiss", "tle"]

  validation {
    condition = (
      length(var.iss_sources) > 0 &&
      length(distinct(var.iss_sources)) == length(var.iss_sources) &&
      alltrue([for s in var.iss_sources : contains(["open-notify", "wheretheiss", "tle"], s)])
    )
    error_message = "iss_sources must be a non-empty list of distinct names among open-notify, wheretheiss, tle."
  }
}

variable "role_session_prefix" {
  description = "ROLE_SESSION_PREFIX: start of role B's session name, as seen in account B's CloudTrail."
  type        = string
  default     = "crosstrack"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,32}$", var.role_session_prefix))
    error_message = "role_session_prefix must be 1-32 letters, digits or +=,.@_-."
  }
}

variable "http_timeout_seconds" {
  description = "HTTP_TIMEOUT_SECONDS: timeout per live position source."
  type        = number
  default     = 3

  validation {
    condition     = var.http_timeout_seconds >= 0.1 && var.http_timeout_seconds <= 30
    error_message = "http_timeout_seconds must be from 0.1 to 30."
  }
}

variable "max_position_age_seconds" {
  description = "MAX_POSITION_AGE_SECONDS: a live answer older than this counts as stale (frozen API)."
  type        = number
  default     = 600

  validation {
    condition     = var.max_position_age_seconds >= 10 && var.max_position_age_seconds <= 86400 && floor(var.max_position_age_seconds) == var.max_position_age_seconds
    error_message = "max_position_age_seconds must be a whole number from 10 to 86400."
  }
}

variable "max_tle_age_days" {
  description = "MAX_TLE_AGE_DAYS: the offline (tle) source fails when its TLE is older than this (SGP4 drifts kilometres per day). The local demo deploys with a large value: the bundled TLE ages."
  type        = number
  default     = 14

  validation {
    condition     = var.max_tle_age_days >= 1 && var.max_tle_age_days <= 36500
    error_message = "max_tle_age_days must be from 1 to 36500."
  }
}
