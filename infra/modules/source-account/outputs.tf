output "execution_role_arn" {
  description = "ARN of role A, the function's execution role."
  value       = aws_iam_role.execution.arn
}

output "execution_role_name" {
  description = "Name of role A."
  value       = aws_iam_role.execution.name
}

output "function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the function."
  value       = aws_lambda_function.this.arn
}

output "log_group_name" {
  description = "The function's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "schedule_name" {
  description = "Name of the EventBridge Scheduler schedule."
  value       = aws_scheduler_schedule.this.name
}

output "scheduler_role_arn" {
  description = "ARN of the role the schedule invokes the function with."
  value       = aws_iam_role.scheduler.arn
}

output "failure_queue_arn" {
  description = "ARN of the failure queue."
  value       = aws_sqs_queue.failures.arn
}

output "failure_queue_url" {
  description = "URL of the failure queue."
  value       = aws_sqs_queue.failures.url
}
