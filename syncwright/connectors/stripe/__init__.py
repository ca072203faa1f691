"""Stripe connector: signature scheme, payload models (the lead extends this package)."""
