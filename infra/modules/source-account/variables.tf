variable "aws_partition" {
  description = "AWS partition (aws, aws-cn, aws-us-gov), used to build ARNs."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "aws-cn", "aws-us-gov"], var.aws_partition)
    error_message = "aws_partition must be one of aws, aws-cn, aws-us-gov."
  }
}

variable "region" {
  description = "Region of the provider this module runs with; also the bucket's region (BUCKET_REGION)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region code such as us-east-1."
  }
}

variable "function_name" {
  description = "Name of the Lambda function (also of its log group, schedule, failure queue and alarms)."
  type        = string
  default     = "write-report-to-crossaccount-s3"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,55}$", var.function_name))
    error_message = "function_name must be 1-55 letters, digits, hyphens or underscores."
  }
}

variable "execution_role_name" {
  description = "Name of role A, the function's execution role."
  type        = string
  default     = "connect-to-bridge"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.execution_role_name))
    error_message = "execution_role_name must be 1-64 letters, digits or +=,.@_-."
  }
}

variable "target_role_arn" {
  description = "ARN of role B in account B: the only role the function may assume."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/([\\x21-\\x7e]*/)?[A-Za-z0-9+=,.@_-]{1,64}$", var.target_role_arn))
    error_message = "target_role_arn must be the ARN of an IAM role (no wildcards)."
  }
}

variable "bucket_name" {
  description = "The log bucket in account B (BUCKET_NAME)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name."
  }
}

variable "lambda_zip_path" {
  description = "Path of the zip built by `crosstrack package`."
  type        = string

  validation {
    condition     = endswith(var.lambda_zip_path, ".zip")
    error_message = "lambda_zip_path must name a .zip file."
  }
}

variable "lambda_runtime" {
  description = "Lambda Python runtime matching the zip (crosstrack package --python)."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be python3.11, python3.12 or python3.13."
  }
}

variable "lambda_architecture" {
  description = "Lambda instruction set matching the zip (crosstrack package --arch)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "lambda_memory_size" {
  description = "Memory of the function in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.lambda_memory_size >= 128 && var.lambda_memory_size <= 10240
    error_message = "lambda_memory_size must be from 128 to 10240."
  }
}

variable "lambda_timeout" {
  description = "Function timeout in seconds."
  type        = number
  default     = 30

  validation {
    condition     = var.lambda_timeout >= 10 && var.lambda_timeout <= 900
    error_message = "lambda_timeout must be from 10 to 900."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's log group in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, ... 3653)."
  }
}

variable "schedule_expression" {
  description = "EventBridge Scheduler expression."
  type        = string
  default     = "rate(5 minutes)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.schedule_expression))
    error_message = "schedule_expression must be rate(...) or cron(...)."
  }
}

variable "schedule_enabled" {
  description = "Whether the schedule is enabled."
  type        = bool
  default     = true
}

variable "async_max_retry_attempts" {
  description = "Lambda's retries of a failed asynchronous (scheduled) invocation."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.async_max_retry_attempts)
    error_message = "async_max_retry_attempts must be 0, 1 or 2."
  }
}

variable "async_max_event_age_seconds" {
  description = "Maximum age of a scheduled event still worth delivering, in seconds."
  type        = number
  default     = 900

  validation {
    condition     = var.async_max_event_age_seconds >= 60 && var.async_max_event_age_seconds <= 21600
    error_message = "async_max_event_age_seconds must be from 60 to 21600."
  }
}

variable "alarm_email" {
  description = "Optional e-mail address for the alarms (an SNS topic and subscription are created)."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address."
  }
}

variable "alarm_topic_arns" {
  description = "Existing SNS topic ARNs the alarms notify."
  type        = list(string)
  default     = []
}

variable "reporter" {
  description = "The reporter's configuration (design.md, Reporter configuration), rendered into the function's environment."
  type = object({
    object_key               = string
    log_format               = string
    log_layout               = string
    iss_sources              = list(string)
    external_id              = optional(string)
    role_session_prefix      = string
    http_timeout_seconds     = number
    max_position_age_seconds = number
    max_tle_age_days         = optional(number, 14)
  })

  validation {
    condition = (
      contains(["text", "jsonl"], var.reporter.log_format) &&
      contains(["single", "daily"], var.reporter.log_layout) &&
      length(var.reporter.iss_sources) > 0 &&
      alltrue([for s in var.reporter.iss_sources : contains(["open-notify", "wheretheiss", "tle"], s)]) &&
      var.reporter.max_tle_age_days >= 1
    )
    error_message = "reporter: log_format must be text|jsonl, log_layout single|daily, iss_sources a non-empty list of open-notify, wheretheiss, tle, max_tle_age_days at least 1."
  }
}
