"""What moto stores but cannot run: the Lambda runner, the scheduler, the Terraform driver, the
demo and its trust-chain links.
"""
