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

output "function_configuration" {
  description = "What the function runs: handler, runtime, architecture, limits, code hash and environment."
  value = {
    handler          = aws_lambda_function.this.handler
    runtime          = aws_lambda_function.this.runtime
    architectures    = aws_lambda_function.this.architectures
    timeout          = aws_lambda_function.this.timeout
    memory_size      = aws_lambda_function.this.memory_size
    source_code_hash = aws_lambda_function.this.source_code_hash
    environment      = aws_lambda_function.this.environment[0].variables
  }
}

output "schedule" {
  description = "The schedule's expression, state and the input it sends (the reporter's idempotency key)."
  value = {
    expression = aws_scheduler_schedule.this.schedule_expression
    state      = aws_scheduler_schedule.this.state
    input      = aws_scheduler_schedule.this.target[0].input
  }
}

output "failure_handling" {
  description = "Retries and limits of asynchronous invocations, and the log retention."
  value = {
    max_retry_attempts       = aws_lambda_function_event_invoke_config.this.maximum_retry_attempts
    max_event_age_in_seconds = aws_lambda_function_event_invoke_config.this.maximum_event_age_in_seconds
    log_retention_days       = aws_cloudwatch_log_group.this.retention_in_days
  }
}
