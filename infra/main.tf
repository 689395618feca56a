locals {
  tags = merge({ Project = "crosstrack" }, var.tags)
}

# Account B: the log bucket and the role the function assumes. Role B's trust policy names
# role A's ARN, so role A is created first (AWS rejects a trust policy whose principal does
# not exist); role A's permission to assume role B is a separate policy attached afterwards.
module "target" {
  source = "./modules/target-account"
  providers = {
    aws = aws.account_b
  }

  aws_partition                     = var.aws_partition
  region                            = var.region
  bucket_prefix                     = var.bucket_prefix
  bucket_name                       = var.bucket_name
  force_destroy                     = var.bucket_force_destroy
  noncurrent_version_retention_days = var.noncurrent_version_retention_days
  lifecycle_enabled                 = var.bucket_lifecycle_enabled
  kms_key_enabled                   = var.bucket_kms_key_enabled
  role_name                         = var.target_role_name
  permissions_boundary_arn          = var.target_role_permissions_boundary_arn
  trusted_role_arn                  = module.source.execution_role_arn
  external_id                       = var.external_id
  trusted_principal_org_id          = var.trusted_principal_org_id
  object_key                        = var.object_key
  log_layout                        = var.log_layout
}

# Account A: the function, its execution role, schedule, logs, failure handling and alarms.
module "source" {
  source = "./modules/source-account"

  aws_partition               = var.aws_partition
  region                      = var.region
  function_name               = var.function_name
  execution_role_name         = var.source_role_name
  target_role_arn             = module.target.role_arn
  bucket_name                 = module.target.bucket_name
  lambda_zip_path             = var.lambda_zip_path
  lambda_runtime              = var.lambda_runtime
  lambda_architecture         = var.lambda_architecture
  lambda_memory_size          = var.lambda_memory_size
  lambda_timeout              = var.lambda_timeout
  log_retention_days          = var.log_retention_days
  schedule_expression         = var.schedule_expression
  schedule_enabled            = var.schedule_enabled
  async_max_retry_attempts    = var.async_max_retry_attempts
  async_max_event_age_seconds = var.async_max_event_age_seconds
  alarm_email                 = var.alarm_email
  alarm_topic_arns            = var.alarm_topic_arns

  reporter = {
    object_key               = var.object_key
    log_format               = var.log_format
    log_layout               = var.log_layout
    iss_sources              = var.iss_sources
    external_id              = var.external_id
    role_session_prefix      = var.role_session_prefix
    http_timeout_seconds     = var.http_timeout_seconds
    max_position_age_seconds = var.max_position_age_seconds
    max_tle_age_days         = var.max_tle_age_days
  }
}
