# A small configuration spanning both accounts of the local AWS: the trust chain of
# design.md without the Lambda. Account A is reached with the operator's key from the
# environment; account B only by assuming B's `terraform` role (infra/bootstrap/).
# Nothing here points at the emulator: AWS_ENDPOINT_URL and AWS_CA_BUNDLE from
# `crosstrack local up` do, exactly as they would for infra/.

terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100.0, < 7.0.0"
    }
  }
}

variable "account_a_id" {
  type    = string
  default = "111111111111"
}

variable "account_b_id" {
  type    = string
  default = "222222222222"
}

provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = [var.account_a_id]
}

provider "aws" {
  alias               = "account_b"
  region              = "us-east-1"
  allowed_account_ids = [var.account_b_id]

  assume_role {
    role_arn     = "arn:aws:iam::${var.account_b_id}:role/terraform"
    session_name = "crosstrack-terraform"
  }
}

# --- account A: the Lambda's execution role, allowed to assume role B -------------------

data "aws_iam_policy_document" "lambda_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_a_id]
    }
  }
}

resource "aws_iam_role" "source" {
  name               = "connect-to-bridge"
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

data "aws_iam_policy_document" "assume_target" {
  statement {
    actions   = ["sts:AssumeRole"]
    resources = [aws_iam_role.target.arn]
  }
}

resource "aws_iam_role_policy" "assume_target" {
  name   = "assume-access-s3-bucket"
  role   = aws_iam_role.source.id
  policy = data.aws_iam_policy_document.assume_target.json
}

# --- account B: the bucket, its TLS-only policy, role B and its object permissions ------

resource "aws_s3_bucket" "log" {
  provider      = aws.account_b
  bucket_prefix = "iss-reporting-"
  force_destroy = true
}

resource "aws_s3_bucket_public_access_block" "log" {
  provider                = aws.account_b
  bucket                  = aws_s3_bucket.log.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.log.arn, "${aws_s3_bucket.log.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "log" {
  provider   = aws.account_b
  bucket     = aws_s3_bucket.log.id
  policy     = data.aws_iam_policy_document.bucket.json
  depends_on = [aws_s3_bucket_public_access_block.log]
}

data "aws_iam_policy_document" "target_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.source.arn]
    }
  }
}

resource "aws_iam_role" "target" {
  provider           = aws.account_b
  name               = "access-s3-bucket"
  assume_role_policy = data.aws_iam_policy_document.target_trust.json
  # As infra/ does: the deploy role may create role B only with the bootstrap's boundary.
  permissions_boundary = "arn:aws:iam::${var.account_b_id}:policy/crosstrack-target-role-boundary"
}

data "aws_iam_policy_document" "object_access" {
  statement {
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.log.arn}/iss_position.txt"]
  }
  statement {
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.log.arn]
  }
}

# Inline, as infra/ does: the deploy role may not create or attach managed policies.
resource "aws_iam_role_policy" "object_access" {
  provider = aws.account_b
  name     = "access-s3-bucket-objects"
  role     = aws_iam_role.target.name
  policy   = data.aws_iam_policy_document.object_access.json
}

output "bucket" {
  value = aws_s3_bucket.log.id
}

output "source_role_arn" {
  value = aws_iam_role.source.arn
}

output "target_role_arn" {
  value = aws_iam_role.target.arn
}
