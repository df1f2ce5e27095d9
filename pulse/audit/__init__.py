"""Audit log of staff actions; it never records anything about respondents."""
