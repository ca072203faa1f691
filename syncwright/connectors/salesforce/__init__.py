"""Salesforce connector: Change Data Capture (and a SOQL poll) in, billing facts out.

``connector.SalesforceConnector`` is registered as vendor ``salesforce``; see README.md.
"""
