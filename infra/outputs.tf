output "source_role_arn" {
  description = "ARN of role A (connect-to-bridge), the function's execution role in account A."
  value       = module.source.execution_role_arn
}

output "target_role_arn" {
  description = "ARN of role B (access-s3-bucket) in account B; the function's ACCOUNT2_ROLE_ARN."
  value       = module.target.role_arn
}

output "bucket_name" {
  description = "The log bucket in account B."
  value       = module.target.bucket_name
}

output "object_key" {
  description = "The log object's key (layout single), or the key the daily objects derive from: <stem>/YYYY/MM/DD<suffix>."
  value       = var.object_key
}

output "log_layout" {
  description = "single (one object) or daily (one object per UTC day); crosstrack log reads it."
  value       = var.log_layout
}

output "log_format" {
  description = "text (the original's) or jsonl (one JSON object per line)."
  value       = var.log_format
}

output "function_name" {
  description = "The Lambda function in account A."
  value       = module.source.function_name
}

output "log_group_name" {
  description = "The function's CloudWatch log group in account A."
  value       = module.source.log_group_name
}

output "schedule_name" {
  description = "The EventBridge Scheduler schedule that invokes the function."
  value       = module.source.schedule_name
}

output "failure_queue_url" {
  description = "SQS queue receiving invocations that failed after every retry (inspect it when the alarm fires)."
  value       = module.source.failure_queue_url
}

output "watch_logs_command" {
  description = "Paste to follow the function's log lines (one JSON line per invocation)."
  value       = "aws logs tail ${module.source.log_group_name} --follow --region ${var.region}"
}

output "invoke_command" {
  description = "Paste to run the function once now instead of waiting for the schedule (a manual event always appends)."
  value       = "aws lambda invoke --function-name ${module.source.function_name} --region ${var.region} --cli-binary-format raw-in-base64-out --payload '{}' /dev/stdout"
}

output "read_log_command" {
  description = "Paste to print the log in account B (needs the account-b profile of docs/deploy.md)."
  value = (
    var.log_layout == "single"
    ? "aws s3 cp s3://${module.target.bucket_name}/${var.object_key} - --profile account-b"
    : "aws s3 ls s3://${module.target.bucket_name}/${module.target.log_key_stem}/ --recursive --profile account-b"
  )
}
