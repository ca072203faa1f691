"""Stripe's error bodies: ``{"error": {"type", "code", "message", "param", "doc_url", ...}}``.

Docs: https://docs.stripe.com/api/errors and https://docs.stripe.com/error-codes.
"""

from __future__ import annotations

from typing import Any

DOCS = "https://docs.stripe.com"


class StripeAPIError(Exception):
    """An error the emulator answers the way Stripe does.

    ``saved`` says whether an idempotent request keeps this result: Stripe saves a result once the
    endpoint *started executing*, not when the parameters failed validation.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: dict[str, Any] | None = None,
        saved: bool = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}
        self.saved = saved
        self.headers = headers or {}

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        err: dict[str, Any] = {}
        if self.code:
            err["code"] = self.code
        if self.decline_code:
            err["decline_code"] = self.decline_code
        if self.code:
            err["doc_url"] = f"{DOCS}/error-codes/{self.code.replace('_', '-')}"
        err["message"] = self.message
        if self.param:
            err["param"] = self.param
        if request_id:
            err["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        err["type"] = self.type
        err.update(self.extra)
        return {"error": err}


def resource_missing(kind: str, object_id: str, param: str = "id") -> StripeAPIError:
    return StripeAPIError(
        404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param
    )


def parameter_missing(param: str, *, saved: bool = False) -> StripeAPIError:
    """``saved=True`` when the endpoint found it missing only after it started executing."""
    return StripeAPIError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param, saved=saved
    )


def parameter_unknown(param: str) -> StripeAPIError:
    return StripeAPIError(
        400,
        f"Received unknown parameter: {param}",
        code="parameter_unknown",
        param=param,
        saved=False,
    )


def invalid_param(message: str, param: str | None, code: str | None = None) -> StripeAPIError:
    return StripeAPIError(400, message, code=code, param=param, saved=False)


def invalid_request(
    message: str, *, param: str | None = None, code: str | None = None
) -> StripeAPIError:
    """A request that reached the endpoint but is not allowed in the object's current state."""
    return StripeAPIError(400, message, code=code, param=param)


def card_declined(
    message: str = "Your card was declined.",
    *,
    decline_code: str = "generic_decline",
    extra: dict[str, Any] | None = None,
) -> StripeAPIError:
    return StripeAPIError(
        402,
        message,
        type="card_error",
        code="card_declined",
        decline_code=decline_code,
        extra=extra,
    )
