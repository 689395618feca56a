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
  description = "Region of the provider this module runs with (scopes the KMS key's kms:ViaService condition)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region code such as us-east-1."
  }
}

variable "bucket_prefix" {
  description = "Prefix of the generated bucket name; ignored when bucket_name is set."
  type        = string
  default     = "iss-reporting-"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{0,36}$", var.bucket_prefix))
    error_message = "bucket_prefix must be 1-37 lowercase letters, digits, '.' or '-'."
  }
}

variable "bucket_name" {
  description = "Explicit bucket name (to adopt an existing bucket); null generates one from bucket_prefix."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name."
  }
}

variable "force_destroy" {
  description = "Allow destroying the bucket while it still holds log objects and versions."
  type        = bool
  default     = false
}

variable "lifecycle_enabled" {
  description = "Create the bucket's lifecycle configuration (true except in throw-away environments)."
  type        = bool
  default     = true
}

variable "noncurrent_version_retention_days" {
  description = "Days previous versions of the log objects are kept before S3 expires them."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_retention_days >= 1 && floor(var.noncurrent_version_retention_days) == var.noncurrent_version_retention_days
    error_message = "noncurrent_version_retention_days must be a whole number of days, at least 1."
  }
}

variable "kms_key_enabled" {
  description = "Create a customer managed KMS key for the bucket instead of SSE-S3."
  type        = bool
  default     = false
}

variable "role_name" {
  description = "Name of role B."
  type        = string
  default     = "access-s3-bucket"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name must be 1-64 letters, digits or +=,.@_-."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of role B; null is crosstrack-target-role-boundary in this account (created by infra/bootstrap/)."
  type        = string
  default     = null

  validation {
    # A customer managed policy of account B (or an AWS managed one), never a pattern.
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,128}$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be the ARN of an IAM managed policy (arn:aws:iam::<account>:policy/<name>)."
  }
}

variable "trusted_role_arn" {
  description = "ARN of role A: the only principal role B trusts."
  type        = string

  validation {
    # A role ARN, never an account root or a wildcard: trusting the account would let every
    # principal in account A with sts:AssumeRole on '*' become role B.
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/([\\x21-\\x7e]*/)?[A-Za-z0-9+=,.@_-]{1,64}$", var.trusted_role_arn))
    error_message = "trusted_role_arn must be the ARN of an IAM role (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "external_id" {
  description = "Optional sts:ExternalId that role B's trust requires."
  type        = string
  default     = null

  validation {
    # 2-1224 characters, written as {2,1000} + {0,224}: RE2 caps a repetition count at 1000.
    condition     = var.external_id == null || can(regex("^[A-Za-z0-9+=,.@:/_-]{2,1000}[A-Za-z0-9+=,.@:/_-]{0,224}$", var.external_id))
    error_message = "external_id must be 2-1224 characters of letters, digits and +=,.@:/_-."
  }
}

variable "trusted_principal_org_id" {
  description = "Optional organization id that role B's trust requires as aws:PrincipalOrgID."
  type        = string
  default     = null

  validation {
    condition     = var.trusted_principal_org_id == null || can(regex("^o-[a-z0-9]{10,32}$", var.trusted_principal_org_id))
    error_message = "trusted_principal_org_id must be an organization id such as o-a1b2c3d4e5."
  }
}

variable "object_key" {
  description = "The log object's key (single layout) or key stem source (daily layout)."
  type        = string
  default     = "iss_position.txt"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_()'-][A-Za-z0-9!_.()'-]*(/[A-Za-z0-9!_()'-][A-Za-z0-9!_.()'-]*)*$", var.object_key))
    error_message = "object_key must be '/'-separated segments of letters, digits and !_.()'-, none starting with '.' (no '*', '?' or '$')."
  }
}

variable "log_layout" {
  description = "single (one object) or daily (<stem>/YYYY/MM/DD<suffix>): decides which keys role B may touch."
  type        = string
  default     = "single"

  validation {
    condition     = contains(["single", "daily"], var.log_layout)
    error_message = "log_layout must be single or daily."
  }
}
