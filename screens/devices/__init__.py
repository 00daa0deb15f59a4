"""Devices' private parts: credentials and pairing codes (``credentials``)."""
