"""Bytes on the wire: the cheroot listeners (listener.py), the gateway in front of moto
(server.py) and the recorded raw request (wire.py)."""
