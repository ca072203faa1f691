"""The console over real HTTP: sign-in, session cookie, CSRF, roles, pages, no secrets shown."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from syncwright.exceptions import ExceptionRecord
from syncwright.reconcile import RunStore
from tests._support import wait_until
from tests.console._client import csrf_token, sign_in
from tests.console.conftest import ConsoleWorld

PAGES = ("/", "/trace", "/exceptions", "/exceptions/exc_x", "/connections", "/reconciliation")


def _open_exception(cw: ConsoleWorld) -> ExceptionRecord:
    runtime = cw.world.billing.runtime
    assert runtime is not None
    found = runtime.exceptions.list(status="open")
    assert found, "the parked deal's exception should be open"
    return found[0]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_needs_a_session(console_world: ConsoleWorld, path: str) -> None:
    answer = httpx.get(console_world.url + path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/sign-in?next=" + path)
    # htmx asks for fragments: it is sent to the sign-in page as a whole.
    partial = httpx.get(console_world.url + path, headers={"HX-Request": "true"})
    assert partial.status_code == 204
    assert partial.headers["HX-Redirect"].startswith("/sign-in")


def test_a_wrong_token_or_a_missing_form_token_does_not_sign_in(
    console_world: ConsoleWorld,
) -> None:
    client = httpx.Client(base_url=console_world.url, follow_redirects=False)
    form = client.get("/sign-in")
    wrong = client.post(
        "/sign-in", data={"csrf_token": csrf_token(form.text), "token": "not-a-token-at-all"}
    )
    assert wrong.status_code == 401
    assert "not one of the configured API tokens" in wrong.text
    assert "sw_console" not in client.cookies
    # The right token without the sign-in form's own token (a cross-site post): refused.
    forged = httpx.post(
        console_world.url + "/sign-in",
        data={"token": console_world.operator_token},
        follow_redirects=False,
    )
    assert forged.status_code == 400
    assert "sw_console=" not in forged.headers.get("set-cookie", "")


def test_session_cookie_flags_and_security_headers(console_world: ConsoleWorld) -> None:
    client = httpx.Client(base_url=console_world.url, follow_redirects=False)
    form = client.get("/sign-in")
    answer = client.post(
        "/sign-in",
        data={
            "csrf_token": csrf_token(form.text),
            "token": console_world.operator_token,
            "next": "//evil.example/steal",
        },
    )
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("sw_console="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    assert "secure" not in flags  # plain http on loopback; set whenever the request is https
    # A "next" that leaves the site is ignored: no open redirect.
    assert answer.headers["location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"


def test_sign_out_ends_the_session_on_the_server(console_world: ConsoleWorld) -> None:
    client = sign_in(console_world.url, console_world.viewer_token)
    copied = client.cookies["sw_console"]
    page = client.get("/exceptions")
    assert page.status_code == 200
    out = client.post("/sign-out", data={"csrf_token": csrf_token(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    # The cookie someone copied before the sign-out opens nothing any more.
    replay = httpx.get(
        console_world.url + "/exceptions", cookies={"sw_console": copied}, follow_redirects=False
    )
    assert replay.status_code == 303
    forged = httpx.get(
        console_world.url + "/", cookies={"sw_console": copied + "x"}, follow_redirects=False
    )
    assert forged.status_code == 303


def test_actions_need_the_csrf_token_and_the_operator_role(console_world: ConsoleWorld) -> None:
    record = _open_exception(console_world)
    operator = sign_in(console_world.url, console_world.operator_token)
    no_token = operator.post("/exceptions/act", data={"ids": record.id, "action": "retry"})
    assert no_token.status_code == 403
    assert "security token" in no_token.text

    viewer = sign_in(console_world.url, console_world.viewer_token)
    token = csrf_token(viewer.get("/exceptions").text)
    refused = viewer.post(
        "/exceptions/act", data={"ids": record.id, "action": "retry", "csrf_token": token}
    )
    assert refused.status_code == 403
    assert "needs the operator role" in refused.text
    # htmx sends the token in a header instead of a field: same refusal for a viewer.
    by_header = viewer.post(
        "/exceptions/act",
        data={"ids": record.id, "action": "resolve"},
        headers={"X-CSRF-Token": token},
    )
    assert by_header.status_code == 403
    runtime = console_world.world.billing.runtime
    assert runtime is not None
    unchanged = runtime.exceptions.get(record.id)
    assert unchanged is not None and unchanged.status == "open" and unchanged.retries == 0


def test_overview_shows_the_parked_deal_and_the_connections(console_world: ConsoleWorld) -> None:
    client = sign_in(console_world.url, console_world.viewer_token)
    page = client.get("/").text
    awaiting = re.search(
        r'<div class="value">(\d+)</div>\s*<div class="label"><a [^>]*>Orders awaiting ERP', page
    )
    runtime = console_world.world.billing.runtime
    assert runtime is not None
    parked = runtime.exceptions.list(status="open")
    assert awaiting is not None and awaiting.group(1) == str(len(parked))
    assert "onboarding.validation_failed" in page  # open exceptions by class and age
    assert "business_rule" in page
    for connection in ("netsuite", "salesforce", "stripe", "zendesk"):
        assert f'href="/connections#{connection}"' in page
    fragment = client.get("/?window=15m", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Orders awaiting ERP validation" in fragment.text


def test_connections_page_shows_credential_status_never_a_secret(
    console_world: ConsoleWorld,
) -> None:
    client = sign_in(console_world.url, console_world.operator_token)
    page = client.get("/connections").text
    secrets_dir = console_world.world.billing.workdir / "secrets"
    values = [p.read_text().strip() for p in secrets_dir.iterdir() if p.is_file()]
    assert len(values) >= 8
    for value in values:
        assert value not in page
    assert "file:" in page and 'class="badge cred-ok"' in page


def test_trace_page_by_a_native_id(console_world: ConsoleWorld) -> None:
    client = sign_in(console_world.url, console_world.viewer_token)
    deal = console_world.deals[0]
    # The CRM account's id, and the opportunity's (what the demo prints for `syncwright trace`).
    for native_id in (deal.account, deal.opportunity):
        page = client.get("/trace", params={"q": native_id}).text
        assert "the whole story of one customer" in page, (native_id, page[-600:])
    for step in ("validate.master_data", "netsuite.upsert_account", "stripe.create_subscription"):
        assert step in page
    missing = client.get("/trace", params={"q": "cor_does_not_exist"}).text
    assert "Nothing is recorded under" in missing


def test_reconciliation_page_shows_what_the_runs_table_holds(
    console_world: ConsoleWorld,
) -> None:
    client = sign_in(console_world.url, console_world.viewer_token)
    runtime = console_world.world.billing.runtime
    assert runtime is not None
    store = RunStore(runtime.db)
    if not store.list():
        assert "No reconciliation runs yet" in client.get("/reconciliation").text
    run_id = store.start("invoices_vs_erp")
    assert run_id is not None
    store.finish(run_id, "drift", 2, {"drift": [{"key": "in_123", "field": "amount"}]})
    page = client.get("/reconciliation").text
    assert run_id in page and "invoices_vs_erp" in page
    assert '<td class="num strong bad">2</td>' in page
    assert "in_123" in page


def test_edit_a_parked_delivery_and_retry_it(console_world: ConsoleWorld) -> None:
    runtime = console_world.world.billing.runtime
    assert runtime is not None
    stripe = next(n for n, c in runtime.connectors.items() if c.vendor == "stripe")
    # A delivery whose customer object is malformed: normalize refuses it and it parks.
    poison = {"id": "evt_console_poison", "type": "customer.updated", "data": {"object": {}}}
    accepted = runtime.inbox.accept(
        connection=stripe,
        vendor_event_id="evt_console_poison",
        event_type="customer.updated",
        body=json.dumps(poison),
    )
    assert accepted.inbox_id is not None

    def parked() -> ExceptionRecord | None:
        open_ = runtime.exceptions.list(status="open")
        return next((r for r in open_ if r.inbox_id == accepted.inbox_id), None)

    wait_until(lambda: parked() is not None, what="the poisoned delivery to park")
    record = parked()
    assert record is not None
    operator = sign_in(console_world.url, console_world.operator_token)
    page = operator.get(f"/exceptions/{record.id}").text
    assert "Edit the payload and retry" in page and "evt_console_poison" in page
    token = csrf_token(page)

    bad = operator.post(
        f"/exceptions/{record.id}/edit", data={"payload": "{not json", "csrf_token": token}
    )
    assert bad.status_code == 303
    assert "not valid JSON" in operator.get(f"/exceptions/{record.id}").text
    viewer = sign_in(console_world.url, console_world.viewer_token)
    refused = viewer.post(
        f"/exceptions/{record.id}/edit",
        data={"payload": "{}", "csrf_token": csrf_token(viewer.get("/exceptions").text)},
    )
    assert refused.status_code == 403

    # The fix: the customer as Stripe holds it.
    customer = console_world.world.billing.stripe.v1.customers.list({"limit": 1}).data[0]
    fixed = {**poison, "data": {"object": customer.to_dict()}}
    saved = operator.post(
        f"/exceptions/{record.id}/edit", data={"payload": json.dumps(fixed), "csrf_token": token}
    )
    assert saved.status_code == 303
    # Saved in the inbox (the original kept in the history) and sent back to the dispatcher.
    row = runtime.inbox.get(accepted.inbox_id)
    assert row is not None and row.status in ("pending", "dispatched")
    after = runtime.exceptions.get(record.id)
    assert after is not None and after.status != "open"
    assert json.loads(row.body)["data"]["object"]["id"] == customer.id
    history = runtime.exceptions.history(record.id)
    assert [e["actor"] for e in history if e["action"] == "edit_payload"] == ["demo-operator"]
    detail = operator.get(f"/exceptions/{record.id}").text
    assert "edit_payload" in detail and "demo-operator" in detail
