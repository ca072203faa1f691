"""``syncwright mapping test|diff`` and ``diff_deliveries`` on deliveries stored in a real
SQLite inbox, and ``mappings:`` in the config: validated by ``config validate`` and at start."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from syncwright.cli import app
from syncwright.config import load_settings
from syncwright.errors import ConfigError
from syncwright.intake import Inbox
from syncwright.mapping import diff_deliveries, load_mapping, load_mapping_set
from syncwright.runtime import Runtime
from syncwright.store import Database

SAMPLES = Path(__file__).parent / "samples"
V1, V2 = SAMPLES / "stripe_invoice_v1.yaml", SAMPLES / "stripe_invoice_v2.yaml"


@dataclass
class Stored:
    config: Path
    db: Database
    invoice_id: int
    customer_id: int
    other_id: int


def _accept(inbox: Inbox, connection: str, sample: str) -> int:
    body = (SAMPLES / sample).read_text()
    event = json.loads(body)
    accepted = inbox.accept(
        connection=connection,
        vendor_event_id=event["id"],
        event_type=event["type"],
        body=body,
    )
    assert accepted.inbox_id is not None
    return accepted.inbox_id


@pytest.fixture
def stored(tmp_path: Path, sqlite_url: str) -> Iterator[Stored]:
    config = tmp_path / "syncwright.yaml"
    config.write_text(f"database: {{url: '{sqlite_url}'}}\n")
    db = Database(sqlite_url)
    db.upgrade()
    inbox = Inbox(db)
    try:
        yield Stored(
            config,
            db,
            _accept(inbox, "stripe", "stripe_invoice_finalized.json"),
            _accept(inbox, "stripe", "stripe_customer_created.json"),
            _accept(inbox, "stripe_eu", "stripe_invoice_finalized.json"),
        )
    finally:
        db.dispose()


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _json_cli(*args: str) -> tuple[int, dict[str, Any]]:
    code, output = _cli(*args, "--json")
    return code, json.loads(output)


def test_mapping_test_on_a_stored_delivery(stored: Stored) -> None:
    code, out = _json_cli(
        "mapping",
        "test",
        str(V1),
        "--delivery",
        str(stored.invoice_id),
        "--config",
        str(stored.config),
    )
    assert code == 0, out
    assert (
        out["ok"] is True and out["mapping"] == "stripe_invoices@1" and out["entity"] == "invoice"
    )
    result = out["result"]
    assert result["global_id"] == "(new invoice: stripe/in_1Pgc6tB7WZ01zgkWu9fdqL6I)"
    assert result["total"] == {"amount_minor": 1000, "currency": "USD"}
    assert result["lines"][0]["description"] == "My First Invoice Item (created for API docs)"
    assert out["model_problems"] == []

    code, text = _cli(
        "mapping",
        "test",
        str(V1),
        "--delivery",
        str(stored.customer_id),
        "--config",
        str(stored.config),
    )
    assert code == 0 and "stripe_invoices@1 customer:" in text
    assert '"name": "cus_QXg1o8vcGmoR32"' in text


def test_mapping_test_on_a_file_and_on_what_it_cannot_map(stored: Stored, tmp_path: Path) -> None:
    sample = SAMPLES / "stripe_customer_created.json"
    code, out = _json_cli(
        "mapping", "test", str(V2), "--file", str(sample), "--config", str(stored.config)
    )
    assert code == 0 and out["entity"] == "customer" and out["result"]["currency"] == "USD"

    other = tmp_path / "charge.json"
    other.write_text(json.dumps({"type": "charge.succeeded", "data": {"object": {}}}))
    code, out = _json_cli(
        "mapping", "test", str(V1), "--file", str(other), "--config", str(stored.config)
    )
    assert code == 1 and out["entity"] is None

    # A record the mapping refuses (a status its value map lacks): exit 1 with the reason.
    event = json.loads((SAMPLES / "stripe_invoice_finalized.json").read_text())
    event["data"]["object"]["status"] = "archived"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(event))
    code, out = _json_cli(
        "mapping", "test", str(V1), "--file", str(bad), "--config", str(stored.config)
    )
    assert code == 1
    assert out["error"] == (
        "stripe.mapping_invalid: Stripe invoice in_1Pgc6tB7WZ01zgkWu9fdqL6I: status: "
        "'archived' has no entry in value map 'invoice_status'"
    )

    code, out = _json_cli(
        "mapping", "test", str(V1), "--delivery", "999", "--config", str(stored.config)
    )
    assert code == 1 and out["error"] == "no stored delivery with inbox id 999"
    code, _ = _cli("mapping", "test", str(V1), "--config", str(stored.config))
    assert code == 2  # neither --delivery nor --file


def test_mapping_diff_shows_field_level_changes_on_stored_deliveries(stored: Stored) -> None:
    code, out = _json_cli(
        "mapping",
        "diff",
        str(V1),
        str(V2),
        "--connection",
        "stripe",
        "--config",
        str(stored.config),
    )
    assert code == 0, out
    assert (out["old"], out["new"], out["deliveries"], out["changed"]) == (
        "stripe_invoices@1",
        "stripe_invoices@2",
        2,
        1,
    )
    invoice, customer = out["records"]
    assert invoice["inbox_id"] == stored.invoice_id and invoice["connection"] == "stripe"
    assert invoice["changes"] == [
        {
            "path": "lines[0].description",
            "kind": "changed",
            "old": "My First Invoice Item (created for API docs)",
            "new": "MY FIRST INVOICE ITEM (CREATED FOR API DOCS)",
        },
        {"path": "number", "kind": "changed", "old": None, "new": "DRAFT"},
    ]
    assert customer["inbox_id"] == stored.customer_id and customer["changes"] == []

    code, text = _cli(
        "mapping",
        "diff",
        str(V1),
        str(V2),
        "--connection",
        "stripe",
        "--changed-only",
        "--config",
        str(stored.config),
    )
    assert code == 0
    assert "stripe_invoices@1 -> stripe_invoices@2: 1 of 1 deliveries change" in text
    assert '~ number: null -> "DRAFT"' in text

    code, out = _json_cli(
        "mapping",
        "diff",
        str(V1),
        str(V2),
        "--event-type",
        "customer.created",
        "--config",
        str(stored.config),
    )
    assert (out["deliveries"], out["changed"]) == (1, 0)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    code, out = _json_cli(
        "mapping", "diff", str(V1), str(V2), "--since", tomorrow, "--config", str(stored.config)
    )
    assert out["deliveries"] == 0


def test_diff_deliveries_is_a_library_function(stored: Stored) -> None:
    diffs = diff_deliveries(
        stored.db, load_mapping(V1), load_mapping(V2), only_changed=True, limit=10
    )
    assert [(d.inbox_id, d.connection) for d in diffs] == [
        (stored.invoice_id, "stripe"),
        (stored.other_id, "stripe_eu"),
    ]
    assert [c.path for c in diffs[0].changes] == ["lines[0].description", "number"]


def _config_with_mapping(
    tmp_path: Path, mapping: Path, version: int, name: str = "stripe_invoices"
) -> Path:
    config = tmp_path / "with_mapping.yaml"
    config.write_text(
        f"""\
database: {{url: 'sqlite:///{tmp_path / "m.db"}'}}
connections:
  stripe:
    vendor: stripe
    credentials: {{api_key: "${{STRIPE_KEY}}"}}
mappings:
  - {{name: {name}, connection: stripe, version: {version}, path: {mapping}}}
"""
    )
    return config


def test_config_validate_and_start_refuse_an_invalid_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_KEY", "sk_test_mapping")
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        V1.read_text().replace("transform: iso_date_from_epoch", "transform: epoch_date", 1)
    )
    config = _config_with_mapping(tmp_path, broken, 1)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "syncwright",
            "config",
            "validate",
            "--config",
            str(config),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    problems = json.loads(done.stdout)["problems"]
    line = next(
        i for i, text in enumerate(broken.read_text().splitlines(), 1) if "epoch_date" in text
    )
    assert len(problems) == 1 and problems[0].startswith(
        f"{broken}:{line}: entities.invoice.fields.issue_date.transform: unknown transform "
        "'epoch_date'"
    ), problems

    with pytest.raises(ConfigError) as caught:
        Runtime(load_settings(config))
    assert caught.value.problems == problems

    # The file's own version must be the configured one.
    code, out = _json_cli(
        "config", "validate", "--config", str(_config_with_mapping(tmp_path, V1, 2))
    )
    assert code == 1
    assert out["problems"] == [
        f"{V1}:3: version: the file is version 1 but the config asks for version 2; "
        "change mappings[].version or the file"
    ]
    # The example's own file (all the shipped entities, at version 3) passes.
    example = Path(__file__).resolve().parents[2] / "mappings" / "stripe_inbound.yaml"
    good = _config_with_mapping(tmp_path, example, 3, name="stripe_inbound")
    code, out = _json_cli("config", "validate", "--config", str(good))
    assert code == 0 and out["ok"] is True, out


def test_a_users_file_must_replace_a_shipped_one_with_all_its_entities(tmp_path: Path) -> None:
    partial = tmp_path / "stripe_out.yaml"
    partial.write_text(
        "name: stripe_outbound\nversion: 2\nvendor: stripe\ndirection: outbound\n"
        "entities:\n  customer:\n    fields: {name: name}\n"
    )
    incomplete = tmp_path / "zendesk_in.yaml"
    incomplete.write_text(
        "name: zendesk_inbound\nversion: 1\nvendor: zendesk\ndirection: inbound\n"
        "entities:\n  org:\n    fields: {name: name}\n"
    )
    unused = tmp_path / "netsuite_in.yaml"
    unused.write_text(
        "name: netsuite_inbound\nversion: 1\nvendor: netsuite\ndirection: inbound\n"
        "entities:\n  customer:\n    fields: {name: companyName}\n"
    )
    config = tmp_path / "syncwright.yaml"
    config.write_text(
        f"""\
database: {{url: 'sqlite:///{tmp_path / "m.db"}'}}
connections:
  stripe: {{vendor: stripe}}
  desk: {{vendor: zendesk}}
  erp: {{vendor: netsuite}}
mappings:
  - {{name: stripe_outbound, connection: stripe, version: 2, path: {partial}}}
  - {{name: zendesk_inbound, connection: desk, version: 1, path: {incomplete}}}
  - {{name: stripe_invoices, connection: desk, version: 1, path: {V1}}}
  - {{name: netsuite_inbound, connection: erp, version: 1, path: {unused}}}
"""
    )
    with pytest.raises(ConfigError) as caught:
        load_mapping_set(load_settings(config))
    assert caught.value.problems == [
        f"{partial}: entities: the stripe connector needs address, subscription, "
        "subscription_item (as in "
        "syncwright/connectors/stripe/mappings/outbound.yaml); add them",
        f"{incomplete}: entities: the zendesk connector needs ticket (as in "
        "syncwright/connectors/zendesk/mappings/inbound.yaml); add them",
        f"mappings[2].connection: 'desk' is a zendesk connection but {V1} maps stripe",
        f"{V1}: entities: the stripe connector needs application, credit_note, "
        "credit_note_line, invoice_line, invoice_schedule, payment, subscription, "
        "subscription_item (as in "
        "syncwright/connectors/stripe/mappings/inbound.yaml); add them",
        "mappings[2]: connection 'desk' already has an inbound mapping at mappings[1]; keep one",
        "mappings[3]: the netsuite connector ships no inbound mapping file to replace (it does "
        f"not map that direction through a file), so {unused} would not be used; remove the entry",
    ]
