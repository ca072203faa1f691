"""The public connector kit: a curated API, and the helpers every connector builds on."""

from __future__ import annotations

import ast
import base64
import datetime as dt
import hashlib
import hmac
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

import syncwright.connectors as kit
from syncwright.connectors import (
    BearerAuth,
    Connector,
    ConnectorOptions,
    OAuth1Auth,
    PaginationError,
    Stream,
    check_timestamp,
    error_for_status,
    error_for_transport,
    hmac_sha256_base64,
    hmac_sha256_hex,
    next_link,
    paginate_cursor,
    paginate_links,
    paginate_offset,
    parse_retry_after,
    parse_signature_header,
    signature_matches,
)
from syncwright.errors import (
    AuthError,
    BusinessRuleError,
    ConfigError,
    TransientError,
    UncertainOutcomeError,
)

EXAMPLE = Path(kit.__file__).resolve().parent / "example"


def test_the_kit_is_curated() -> None:
    assert len(set(kit.__all__)) == len(kit.__all__)
    assert set(kit.__all__) == {
        "ACTIONS",
        "DEFAULT_REMEDIATION",
        "ENTRY_POINT_GROUP",
        "NEVER_SENT",
        "RETRYABLE_STATUSES",
        "Action",
        "BasicAuth",
        "BearerAuth",
        "ConcurrencyLimiter",
        "Connector",
        "ConnectorOptions",
        "Delivery",
        "OAuth1Auth",
        "PaginationError",
        "PollBatch",
        "PolledEvent",
        "RateLimiter",
        "Stream",
        "ValidationOptions",
        "VendorHttpClient",
        "WebhookIdentity",
        "WebhookVerifier",
        "audit_write",
        "call_timeout",
        "check_timestamp",
        "connector_class",
        "connector_for",
        "differing",
        "error_for_status",
        "error_for_transport",
        "header_value",
        "hmac_sha256_base64",
        "hmac_sha256_hex",
        "honour_retry_after",
        "installed_vendors",
        "ledger_block",
        "partial_write_result",
        "next_link",
        "paginate_cursor",
        "paginate_links",
        "paginate_offset",
        "parse_canonical",
        "parse_entitlement",
        "parse_options",
        "parse_retry_after",
        "parse_signature_header",
        "register_connector",
        "signature_matches",
    }
    for name in kit.__all__:
        assert hasattr(kit, name), name


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_example_connector_imports_nothing_private() -> None:
    """The template to copy is built on the public kit only: no ``_base``, no private module
    of syncwright, no other connector."""
    modules = sorted(EXAMPLE.glob("*.py"))
    assert {p.name for p in modules} >= {"connector.py", "client.py", "options.py"}
    for path in modules:
        for module in _imports(path):
            if not module.startswith("syncwright"):
                continue
            parts = module.split(".")
            assert not any(p.startswith("_") for p in parts), f"{path.name} imports {module}"
            if module.startswith("syncwright.connectors."):
                assert module.startswith("syncwright.connectors.example"), (path.name, module)
    assert (EXAMPLE / "README.md").exists()


# -- declarations -----------------------------------------------------------------------------


def test_declarations_are_checked_when_the_class_is_made() -> None:
    class Polls(Connector):
        vendor = "polls"
        streams = (Stream("items", "/items", primary_key="id", cursor_field="updated"),)

    assert Polls.poll_streams == ("items",)  # every declared stream, unless chosen
    assert Polls.stream("items").cursor_field == "updated"
    with pytest.raises(ConfigError) as unknown:
        Polls.stream("orders")
    assert unknown.value.problems == ["polls streams: items"]

    with pytest.raises(TypeError, match="undeclared streams"):

        class Undeclared(Connector):
            vendor = "undeclared"
            poll_streams = ("events",)

    with pytest.raises(TypeError, match="must subclass ConnectorOptions"):

        class Untyped(Connector):
            vendor = "untyped"
            options_model = dict  # type: ignore[assignment]

    with pytest.raises(ValueError, match="path must start with '/'"):
        Stream("items", "items", primary_key="id")


def test_options_are_parsed_with_paths() -> None:
    class Opts(ConnectorOptions):
        page_size: int = 10

    class WithOptions(Connector):
        vendor = "with_options"
        options_model = Opts

    parsed = WithOptions.parse_options("c", {"page_size": 5, "role": "crm"})
    assert parsed.page_size == 5 and parsed.role == "crm" and parsed.poll_interval_seconds == 60
    with pytest.raises(ConfigError) as bad:
        WithOptions.parse_options("c", {"page_size": "5", "pagesize": 1})
    assert sorted(bad.value.problems) == [
        "connections.c.options.page_size: input should be a valid integer",
        "connections.c.options.pagesize: unknown option; the options here are: role, "
        "poll_interval_seconds, page_size",
    ]


# -- classification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers", "kind", "code"),
    [
        (429, {"Retry-After": "7"}, TransientError, "acme.RATE"),
        (503, {}, TransientError, "acme.RATE"),
        (408, {}, TransientError, "acme.RATE"),
        (401, {}, AuthError, "acme.RATE"),
        (403, {}, AuthError, "acme.RATE"),
        (422, {}, BusinessRuleError, "acme.RATE"),
        (404, {}, BusinessRuleError, "acme.RATE"),
    ],
)
def test_status_classification(
    status: int, headers: dict[str, str], kind: type[Exception], code: str
) -> None:
    error = error_for_status(httpx.Response(status, headers=headers), vendor="acme", code="RATE")
    assert type(error) is kind and error is not None and error.code == code
    if isinstance(error, TransientError) and headers:
        assert error.retry_after == 7.0
    if isinstance(error, BusinessRuleError):
        assert error.remediation
    plain = error_for_status(httpx.Response(status), vendor="acme")
    assert plain is not None and plain.code == f"acme.http_{status}"


def test_success_is_no_error() -> None:
    assert error_for_status(httpx.Response(200), vendor="acme") is None
    assert error_for_status(httpx.Response(204), vendor="acme") is None


def test_transport_classification() -> None:
    never_sent = httpx.ConnectError("refused")
    lost = httpx.ReadTimeout("slow")
    assert type(error_for_transport(never_sent, vendor="v", write=True, what="PUT /x")) is (
        TransientError
    )
    assert type(error_for_transport(lost, vendor="v", write=False, what="GET /x")) is (
        TransientError
    )
    uncertain = error_for_transport(lost, vendor="v", write=True, what="PUT /x")
    assert type(uncertain) is UncertainOutcomeError and uncertain.code == "v.uncertain"


def test_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after("2.5") == 2.5
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)
    seconds = parse_retry_after(format_datetime(later, usegmt=True))
    assert seconds is not None and 100 < seconds <= 120
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


# -- signatures -------------------------------------------------------------------------------


def test_signature_header_parsing_and_constant_time_compare() -> None:
    parts = parse_signature_header("t=1700000000, v1=aa,v1=bb ,v0=cc,junk")
    assert parts == {"t": ["1700000000"], "v1": ["aa", "bb"], "v0": ["cc"]}
    body = b'{"id": 1}'
    expected = hmac.new(b"secret", body, hashlib.sha256)
    assert hmac_sha256_hex("secret", body) == expected.hexdigest()
    assert hmac_sha256_base64(b"secret", body) == base64.b64encode(expected.digest()).decode()
    assert signature_matches(expected.hexdigest(), ["nope", expected.hexdigest()])
    assert not signature_matches(expected.hexdigest(), ["nope", expected.hexdigest()[:-1]])
    assert not signature_matches(expected.hexdigest(), [])


def test_signed_timestamps_within_tolerance_only() -> None:
    assert check_timestamp("1000", 300, now=1200) == 1000
    with pytest.raises(AuthError) as stale:
        check_timestamp("1000", 300, now=1400)
    assert stale.value.code == "signature.stale"
    for bad in (None, "yesterday"):
        with pytest.raises(AuthError) as malformed:
            check_timestamp(bad, 300, now=1000)
        assert malformed.value.code == "signature.malformed"


# -- pagination -------------------------------------------------------------------------------


def test_cursor_and_offset_pagination() -> None:
    pages = {None: ([1, 2], "b"), "b": ([3, 4], "c"), "c": ([5], None)}
    assert list(paginate_cursor(lambda cursor: pages[cursor])) == [1, 2, 3, 4, 5]
    loop = {None: ([1], "a"), "a": ([2], "a")}
    with pytest.raises(PaginationError):
        list(paginate_cursor(lambda cursor: loop[cursor]))
    rows = list(range(7))
    calls: list[tuple[int, int]] = []

    def fetch(offset: int, limit: int) -> list[int]:
        calls.append((offset, limit))
        return rows[offset : offset + limit]

    assert list(paginate_offset(fetch, page_size=3)) == rows
    assert calls == [(0, 3), (3, 3), (6, 3)]


def test_link_header_pagination() -> None:
    def get(url: str) -> httpx.Response:
        page = int(url.rsplit("=", 1)[1])
        headers = {"Link": f'<https://api.test/items?page={page + 1}>; rel="next"'}
        return httpx.Response(200, json=[page], headers=headers if page < 3 else {})

    assert list(paginate_links(get, "https://api.test/items?page=1", lambda r: r.json())) == [
        1,
        2,
        3,
    ]
    assert next_link(httpx.Response(200)) is None


# -- auth -------------------------------------------------------------------------------------


def test_auth_schemes_sign_requests_and_hide_secrets() -> None:
    request = httpx.Request("GET", "https://api.test/x?a=1")
    bearer = BearerAuth("tok-secret")
    assert next(bearer.auth_flow(request)).headers["Authorization"] == "Bearer tok-secret"
    assert "tok-secret" not in repr(bearer)
    oauth = OAuth1Auth("ck", "cs-secret", "ti", "ts-secret", realm="TSTDRV1")
    header = next(oauth.auth_flow(httpx.Request("GET", "https://api.test/x"))).headers[
        "Authorization"
    ]
    assert header.startswith('OAuth realm="TSTDRV1"')
    assert 'oauth_signature_method="HMAC-SHA256"' in header and 'oauth_token="ti"' in header
    assert "cs-secret" not in repr(oauth) and "ts-secret" not in repr(oauth)
    with pytest.raises(ValueError):
        BearerAuth(" ")
