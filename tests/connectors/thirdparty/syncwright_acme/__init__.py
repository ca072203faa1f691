"""A third-party connector built only on the public kit (``syncwright.connectors``)."""
