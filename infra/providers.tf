# Account A (source): whatever identity the AWS CLI/SDK chain resolves (the "CLI identity"
# of the original post). Setting account_a_id makes Terraform refuse to touch any other
# account, which catches the classic "wrong profile exported" mistake before any change.
provider "aws" {
  region              = var.region
  allowed_account_ids = var.account_a_id == null ? null : [var.account_a_id]

  default_tags {
    tags = local.tags
  }
}

# Account B (target): reached only by assuming the deploy role created once by the
# bootstrap in infra/bootstrap/ (docs/deploy.md). allowed_account_ids guards against an
# account_b_id typo that happens to name another account the CLI identity can enter.
provider "aws" {
  alias               = "account_b"
  region              = var.region
  allowed_account_ids = [var.account_b_id]

  assume_role {
    role_arn     = "arn:${var.aws_partition}:iam::${var.account_b_id}:role/${var.account_b_deploy_role}"
    session_name = "crosstrack-terraform"
  }

  default_tags {
    tags = local.tags
  }
}
