"""The Business Central mapping's named transforms (``business_central.<name>``): the
deterministic document/customer number we write and find records by, and the customer's
address as a canonical one."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from syncwright.mapping.transforms import TransformContext, register

__all__ = ["business_central_code"]

_CODE_CHARS = re.compile(r"^[A-Z0-9_.\-/]+$")


def business_central_code(value: str, length: int) -> str:
    """A global id as a Business Central Code field (upper case, at most ``length``
    characters): itself when it fits, else ``SW`` and a digest of it (deterministic, so the
    record is found again by it)."""
    upper = value.upper()
    if len(upper) <= length and _CODE_CHARS.match(upper):
        return upper
    digest = base64.b32encode(hashlib.sha256(value.encode()).digest()).decode()
    return "SW" + digest[: length - 2]


@register("business_central.code")
def code(value: Any, ctx: TransformContext, /, *, length: int) -> str | None:
    """A global id as a Code[length] key (customer No., external document No.)."""
    return None if value is None else business_central_code(str(value), length)


@register("business_central.address")
def address(value: Any, ctx: TransformContext, /) -> dict[str, Any] | None:
    """A customer's address fields as a canonical address; none without a street, city and
    country (the canonical address needs them)."""
    if not isinstance(value, dict):
        return None
    if not all(str(value.get(k) or "").strip() for k in ("addressLine1", "city", "country")):
        return None
    parts = {
        "line1": value.get("addressLine1"),
        "line2": value.get("addressLine2"),
        "city": value.get("city"),
        "region": value.get("state"),
        "postal_code": value.get("postalCode"),
        "country": str(value["country"]).strip().upper(),
    }
    return {k: (str(v).strip() or None) if v is not None else None for k, v in parts.items()}
