"""NetSuite connector: our own small SuiteTalk REST client (``client.NetSuiteClient``), signed
with token-based authentication (OAuth 1.0a, HMAC-SHA256)."""
