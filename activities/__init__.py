"""Temporal activity definitions: all I/O (S3, HTTP, secrets) happens here.

Installed as `a2a_temporal.activities`.
"""
