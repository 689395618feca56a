"""What exists when the local AWS starts: bootstrap (operator, deploy role), the generated AWS
config and credentials files, the TLS CA.
"""
