"""HTTP client for the example ERP, classifying failures into ``syncwright.errors``."""

from __future__ import annotations

from typing import Any

import httpx

from syncwright.connectors import VendorHttpClient
from syncwright.errors import (
    AuthError,
    BusinessRuleError,
    TransientError,
    UncertainOutcomeError,
)

_REMEDIATION = {
    "UNKNOWN_SUBSIDIARY": "Create the subsidiary in the ERP, or correct the account's subsidiary "
    "in the source system, then retry this exception.",
    "MISSING_FIELD": "Fill in the missing field on the source record, then retry this exception.",
}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class ExampleErpClient(VendorHttpClient):
    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0) -> None:
        super().__init__(
            timeout=timeout, base_url=base_url, headers={"Authorization": f"Bearer {token}"}
        )

    def upsert_customer(
        self, external_id: str, body: dict[str, Any], *, idempotency_key: str, timeout: float
    ) -> dict[str, Any]:
        try:
            response = self._http_request(
                "PUT",
                f"/api/customers/{external_id}",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
                timeout=timeout,
            )
        except httpx.TimeoutException as exc:
            # The request left: it may have been applied. Probe before retrying.
            raise UncertainOutcomeError(
                f"ERP upsert of {external_id} timed out", code="example.timeout"
            ) from exc
        except httpx.TransportError as exc:
            raise TransientError(
                f"ERP unreachable: {type(exc).__name__}", code="example.network"
            ) from exc
        return self._result(response)

    def get_customer(self, external_id: str, *, timeout: float) -> dict[str, Any] | None:
        try:
            response = self._http_request("GET", f"/api/customers/{external_id}", timeout=timeout)
        except httpx.TransportError as exc:
            raise TransientError(
                f"ERP unreachable: {type(exc).__name__}", code="example.network"
            ) from exc
        if response.status_code == 404:
            return None
        return self._result(response)

    def delete_customer(self, external_id: str, *, timeout: float) -> bool:
        """Delete (a compensation); False when it was already gone."""
        try:
            response = self._http_request(
                "DELETE", f"/api/customers/{external_id}", timeout=timeout
            )
        except httpx.TransportError as exc:
            raise TransientError(
                f"ERP unreachable: {type(exc).__name__}", code="example.network"
            ) from exc
        if response.status_code == 404:
            return False
        if response.status_code == 204:
            return True
        self._result(response)
        return True

    def _result(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code in (200, 201):
            body: dict[str, Any] = response.json()
            return body
        error = _error_body(response)
        code = f"example.{error.get('code', response.status_code)}"
        message = str(error.get("message", response.reason_phrase))
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(message, code=code, retry_after=_retry_after(response))
        if response.status_code in (401, 403):
            raise AuthError(message, code=code)
        raise BusinessRuleError(
            message,
            code=code,
            remediation=_REMEDIATION.get(
                str(error.get("code")), "Correct the record named in the message, then retry."
            ),
        )


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        error = response.json().get("error", {})
    except ValueError:
        return {}
    return error if isinstance(error, dict) else {}
