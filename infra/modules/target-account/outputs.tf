output "bucket_name" {
  description = "Name of the log bucket."
  value       = aws_s3_bucket.log.id
}

output "bucket_arn" {
  description = "ARN of the log bucket."
  value       = aws_s3_bucket.log.arn
}

output "role_arn" {
  description = "ARN of role B (what the function assumes: ACCOUNT2_ROLE_ARN)."
  # Depends on the inline policy too, so nothing invokes the function before role B can write.
  value      = aws_iam_role.this.arn
  depends_on = [aws_iam_role_policy.access]
}

output "role_name" {
  description = "Name of role B."
  value       = aws_iam_role.this.name
}

output "log_key_stem" {
  description = "Key stem of the daily layout (<stem>/YYYY/MM/DD<suffix>)."
  value       = local.log_key_stem
}

output "log_object_arns" {
  description = "The object ARN patterns role B may read and write."
  value       = local.log_object_arns
}

output "kms_key_arn" {
  description = "ARN of the bucket's customer managed key, or null with SSE-S3."
  value       = var.kms_key_enabled ? aws_kms_key.log[0].arn : null
}

output "bucket_settings" {
  description = "Naming and deletion settings of the bucket as deployed."
  value = {
    bucket_prefix = aws_s3_bucket.log.bucket_prefix
    force_destroy = aws_s3_bucket.log.force_destroy
  }
}

output "kms_key_tags" {
  description = "Tags of the bucket's customer managed key (crosstrack-deploy marks it as the deploy role's), or null with SSE-S3."
  value       = var.kms_key_enabled ? aws_kms_key.log[0].tags : null
}

output "role_permissions_boundary_arn" {
  description = "ARN of role B's permissions boundary."
  value       = aws_iam_role.this.permissions_boundary
}
