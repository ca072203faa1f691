"""HTTP client for the example ERP, built on the kit: bearer auth, limits, and the kit's
classification of statuses and transport failures into ``syncwright.errors``.

The ERP's error body is ``{"error": {"code": "...", "message": "..."}}``; its codes are
documented in :data:`DOCUMENTED_ERRORS` (the connector declares them; the contract suite
provokes each one against the emulator and checks the class it is raised as).
"""

from __future__ import annotations

from typing import Any

import httpx

from syncwright.connectors import (
    BearerAuth,
    ConcurrencyLimiter,
    RateLimiter,
    VendorHttpClient,
    error_for_status,
    error_for_transport,
)
from syncwright.errors import (
    AuthError,
    BusinessRuleError,
    SyncwrightError,
    TransientError,
)

__all__ = ["DOCUMENTED_ERRORS", "ExampleErpClient"]

VENDOR = "example"

#: The ERP's error codes and the class each one is raised as.
DOCUMENTED_ERRORS: dict[str, type[SyncwrightError]] = {
    "UNAUTHORIZED": AuthError,  # 401: the bearer token is missing or wrong
    "RATE_LIMITED": TransientError,  # 429 with Retry-After
    "UNAVAILABLE": TransientError,  # 503
    "MISSING_FIELD": BusinessRuleError,  # 422: name or currency missing
    "UNKNOWN_SUBSIDIARY": BusinessRuleError,  # 422: no such subsidiary in the ERP
    "IDEMPOTENCY_CONFLICT": BusinessRuleError,  # 409: a key reused with another body
}

_REMEDIATION = {
    "UNKNOWN_SUBSIDIARY": "Create the subsidiary in the ERP, or correct the account's subsidiary "
    "in the source system, then retry this exception.",
    "MISSING_FIELD": "Fill in the missing field on the source record, then retry this exception.",
}


class ExampleErpClient(VendorHttpClient):
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        limiter: ConcurrencyLimiter | None = None,
        rate: RateLimiter | None = None,
    ) -> None:
        super().__init__(
            timeout=timeout, limiter=limiter, rate=rate, base_url=base_url, auth=BearerAuth(token)
        )

    def __repr__(self) -> str:
        return f"ExampleErpClient(base_url={str(self._http.base_url)!r})"

    def upsert_customer(
        self, external_id: str, body: dict[str, Any], *, idempotency_key: str, timeout: float
    ) -> dict[str, Any]:
        response = self._send(
            "PUT",
            f"/api/customers/{external_id}",
            write=True,
            json=body,
            headers={"Idempotency-Key": idempotency_key},
            timeout=timeout,
        )
        return _json(response)

    def get_customer(self, external_id: str, *, timeout: float) -> dict[str, Any] | None:
        response = self._send(
            "GET", f"/api/customers/{external_id}", write=False, timeout=timeout, missing_ok=True
        )
        return None if response.status_code == 404 else _json(response)

    def delete_customer(self, external_id: str, *, timeout: float) -> bool:
        """Delete (a compensation); False when it was already gone."""
        response = self._send(
            "DELETE",
            f"/api/customers/{external_id}",
            write=True,
            timeout=timeout,
            missing_ok=True,
        )
        return response.status_code != 404

    def list_events(
        self, after: str | None, *, limit: int, timeout: float
    ) -> tuple[list[dict[str, Any]], bool]:
        """One page of the ERP's change events after the event id ``after``, oldest first."""
        params: dict[str, Any] = {"limit": limit}
        if after:
            params["after"] = after
        page = _json(self._send("GET", "/api/events", write=False, params=params, timeout=timeout))
        return list(page.get("data") or []), bool(page.get("has_more"))

    def _send(
        self, method: str, path: str, *, write: bool, missing_ok: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """One request; a failure raised as the error class it stands for."""
        try:
            response = self._http_request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise error_for_transport(
                exc, vendor=VENDOR, write=write, what=f"{method} {path}"
            ) from exc
        if missing_ok and response.status_code == 404:
            return response
        error = _error_body(response)
        code = str(error.get("code") or "") or None
        failure = error_for_status(
            response,
            vendor=VENDOR,
            code=code,
            message=str(error["message"]) if error.get("message") else None,
            remediation=_REMEDIATION.get(code or ""),
        )
        if failure is not None:
            raise failure
        return response


def _json(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    return body


def _error_body(response: httpx.Response) -> dict[str, Any]:
    if response.status_code < 400:
        return {}
    try:
        error = response.json().get("error", {})
    except ValueError:
        return {}
    return error if isinstance(error, dict) else {}
