"""Connectors: one folder per vendor (``client.py``, ``inbound.py``, ``outbound.py``, README)."""
