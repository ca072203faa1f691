"""Dynamics 365 Business Central connector (see README.md)."""
