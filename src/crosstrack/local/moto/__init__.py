"""The only code that imports moto (pinned): the seams crosstrack patches and the state it reads."""
