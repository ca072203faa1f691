"""The example connector: a template to copy for a new vendor.

Inbound: signed webhooks from an "example shop" (``customer.updated``) normalized to canonical
``syncwright.account.upserted.v1`` events. Outbound: customers upserted into the example ERP
emulator (``syncwright.sandbox.example``) with idempotency keys and a probe by external id.
"""
