"""HTTP API (FastAPI): thin routers over the runtime's services."""

from syncwright.api.app import create_api

__all__ = ["create_api"]
