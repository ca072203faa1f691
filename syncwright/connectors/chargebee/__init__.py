"""The Chargebee connector (API v2, Product Catalog 2.0); see README.md."""
