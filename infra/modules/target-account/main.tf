# Account B: the log bucket and role B ("access-s3-bucket").
#
# What role B may do is exactly what the reporter needs (design.md, trust chain steps 3-5):
# read and conditionally rewrite the log object(s), and learn that a log object does not
# exist yet (s3:ListBucket on this bucket turns that answer from 403 into 404).
# No Delete, no other keys, no bucket configuration. The header is NOT written here: an
# aws_s3_object for it would re-upload a bare header over the log on a later apply
# (field-notes.md, defect 1); the reporter creates the object itself, atomically.

data "aws_caller_identity" "current" {}

locals {
  bucket_arn = aws_s3_bucket.log.arn

  # Daily layout keys are <stem>/YYYY/MM/DD<suffix>, where the stem is the object key
  # without its extension (iss_position.txt -> iss_position/2025/12/06.txt), as the
  # reporter's posixpath.splitext computes it (object_key's validation rules out the
  # leading-dot segments where the two could differ).
  log_key_stem = regex("^(.*?)(\\.[^./]*)?$", var.object_key)[0]

  # Role B's permissions boundary: the bootstrap's managed policy unless another is named.
  # B's deploy role may create or change role B only with exactly this boundary
  # (iam:PermissionsBoundary in infra/bootstrap/terraform-role-permissions.json), so even
  # the deploy role cannot make role B more than the boundary allows.
  permissions_boundary_arn = coalesce(
    var.permissions_boundary_arn,
    "arn:${var.aws_partition}:iam::${data.aws_caller_identity.current.account_id}:policy/crosstrack-target-role-boundary",
  )

  log_object_arns = (
    var.log_layout == "single"
    ? ["${local.bucket_arn}/${var.object_key}"]
    : ["${local.bucket_arn}/${local.log_key_stem}/*"]
  )
}

# ---------------------------------------------------------------------------------------
# Bucket
# ---------------------------------------------------------------------------------------

resource "aws_s3_bucket" "log" {
  bucket        = var.bucket_name
  bucket_prefix = var.bucket_name == null ? var.bucket_prefix : null
  # Off by default: a destroy must never silently take the logged history with it.
  force_destroy = var.force_destroy
}

# ACLs off: every object belongs to account B whoever writes it, and access is decided by
# policies alone (the only model crosstrack's IAM engine and the doctor reason about).
resource "aws_s3_bucket_ownership_controls" "log" {
  bucket = aws_s3_bucket.log.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "log" {
  bucket = aws_s3_bucket.log.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Versioning is the undo button: every append is a new version, so a bad write (or an
# operator's mistake) can be rolled back by copying the previous version over the log.
resource "aws_s3_bucket_versioning" "log" {
  bucket = aws_s3_bucket.log.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "log" {
  bucket = aws_s3_bucket.log.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_enabled ? "aws:kms" : "AES256"
      kms_master_key_id = var.kms_key_enabled ? aws_kms_key.log[0].arn : null
    }
    # An S3 Bucket Key cuts KMS requests (and their cost) to about one per object per hour.
    bucket_key_enabled = var.kms_key_enabled
  }
}

# Each append of the single layout leaves the previous full copy as a noncurrent version:
# expire them, or the bucket grows quadratically with the history. Bucket-wide (the bucket
# holds nothing but the log), which also covers abandoned multipart uploads anywhere.
resource "aws_s3_bucket_lifecycle_configuration" "log" {
  count  = var.lifecycle_enabled ? 1 : 0
  bucket = aws_s3_bucket.log.id

  rule {
    id     = "expire-noncurrent-versions-and-abandoned-uploads"
    status = "Enabled"

    # The documented "whole bucket" form; always explicit, as provider 6.x requires.
    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  # S3 rejects noncurrent-version rules until versioning is on.
  depends_on = [aws_s3_bucket_versioning.log]
}

data "aws_iam_policy_document" "bucket" {
  # Credentials must never cross the network in clear: deny any request not made over TLS,
  # whoever makes it (terraform-aws-modules leaves this off by default; crosstrack does not).
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]

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

  # TLS 1.0/1.1 are deprecated; S3 exposes the negotiated version as s3:TlsVersion.
  statement {
    sid       = "DenyOutdatedTls"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }
}

resource "aws_s3_bucket_policy" "log" {
  bucket = aws_s3_bucket.log.id
  policy = data.aws_iam_policy_document.bucket.json

  # Putting a policy while the public access block is being written races in S3
  # ("OperationAborted: A conflicting conditional operation").
  depends_on = [aws_s3_bucket_public_access_block.log]
}

# ---------------------------------------------------------------------------------------
# Role B
# ---------------------------------------------------------------------------------------

data "aws_iam_policy_document" "trust" {
  # Exactly role A: not account A's root (that would delegate the decision to every
  # identity policy in account A), not a wildcard with a condition.
  statement {
    sid     = "TrustOnlyTheReporterRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = [var.trusted_role_arn]
    }

    dynamic "condition" {
      for_each = var.external_id == null ? [] : [var.external_id]
      content {
        test     = "StringEquals"
        variable = "sts:ExternalId"
        values   = [condition.value]
      }
    }

    dynamic "condition" {
      for_each = var.trusted_principal_org_id == null ? [] : [var.trusted_principal_org_id]
      content {
        test     = "StringEquals"
        variable = "aws:PrincipalOrgID"
        values   = [condition.value]
      }
    }
  }
}

resource "aws_iam_role" "this" {
  name               = var.role_name
  description        = "Assumed by the crosstrack reporter in account A to append ISS positions to the log in ${local.bucket_arn}."
  assume_role_policy = data.aws_iam_policy_document.trust.json
  # A role-chained session (role A -> role B) lasts at most 1 hour whatever this says;
  # keep the role's own limit equal so nothing promises more.
  max_session_duration = 3600
  # The most role B may ever do, whatever its inline policy says (see local.permissions_boundary_arn).
  permissions_boundary = local.permissions_boundary_arn
}

data "aws_iam_policy_document" "access" {
  statement {
    sid       = "ReadAndAppendTheLogOnly"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = local.log_object_arns
  }

  # With s3:ListBucket a missing key answers 404 instead of 403, so the reporter can tell
  # "create the log" (first run) from "permission problem". S3 documents that answer as
  # depending on s3:ListBucket on the bucket, with no s3:prefix in the check (the local AWS
  # models it so): a prefix condition could turn the first run into a 403. The grant covers
  # this one bucket, which holds nothing but the log: it reveals key names, no data.
  statement {
    sid       = "TellAMissingLogFromADenial"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]
  }
}

resource "aws_iam_role_policy" "access" {
  name   = "append-iss-log"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.access.json
}

# ---------------------------------------------------------------------------------------
# Optional customer managed key
# ---------------------------------------------------------------------------------------

data "aws_iam_policy_document" "kms" {
  count = var.kms_key_enabled ? 1 : 0

  # This document is a KMS key policy, where Resource "*" means "this key" and the account
  # root statement is AWS's default; checkov reads it as an identity policy. Skipped here,
  # for this document only (listed in infra/.checkov.yaml too):
  #checkov:skip=CKV_AWS_109:key policy: "*" is this key; the root statement is AWS's default key policy
  #checkov:skip=CKV_AWS_111:key policy: "*" is this key; role B's statement is limited by kms:ViaService
  #checkov:skip=CKV_AWS_356:key policy: a key policy's Resource can only be "*" (this key)

  # AWS's default key policy statement: without it the key could become unmanageable
  # (key policies are the only policy KMS consults before IAM policies).
  statement {
    sid       = "AccountAdministersTheKey"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${var.aws_partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  # Role B gets exactly what SSE-KMS reads and writes need, and only through S3.
  statement {
    sid       = "RoleBUsesTheKeyThroughS3Only"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.this.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.region}.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "log" {
  count = var.kms_key_enabled ? 1 : 0

  description             = "crosstrack ISS log bucket ${aws_s3_bucket.log.id}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms[0].json

  # Marks the key as this deployment's: the deploy role (infra/bootstrap/) may create a key
  # only with this tag (aws:RequestTag) and manage only keys that carry it (aws:ResourceTag),
  # so it can never touch, re-policy or schedule the deletion of any other key in account B.
  tags = {
    "crosstrack-deploy" = var.bucket_prefix
  }
}

resource "aws_kms_alias" "log" {
  count = var.kms_key_enabled ? 1 : 0

  name          = "alias/crosstrack-${aws_s3_bucket.log.id}"
  target_key_id = aws_kms_key.log[0].key_id
}
