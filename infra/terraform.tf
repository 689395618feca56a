terraform {
  # 1.5 brings `import` blocks (used by the migration guide in docs/deploy.md) and the
  # validation functions used in variables.tf.
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.100 is what the offline mirror on the CI machines holds; 6.x is what new users get.
      # Nothing here uses an argument that changed between the two (no data.aws_region.name,
      # no inline_policy, lifecycle filters always explicit).
      version = ">= 5.100.0, < 7.0.0"
    }
  }
}
