"""The HubSpot CRM connector (see README.md in this folder)."""
