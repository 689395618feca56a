"""Bytes on the wire: the cheroot listeners and the recorded raw request."""
