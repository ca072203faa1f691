"""Freshdesk connector: entitlements out to companies and SLA policies, tickets in as cases."""
