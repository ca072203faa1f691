"""Zendesk Support connector: organizations, users and tickets, and signed event webhooks."""
