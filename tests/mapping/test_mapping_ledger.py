"""A connection's mapping replaced through ``mappings:``: the step writes what the user's file
says, and the ledger records that file's name and version instead of the shipped one's."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from syncwright.config import load_settings
from syncwright.runtime import Runtime
from syncwright.runtime_hooks import LedgerHooks
from tests.connectors.zendesk.conftest import (
    CONNECTION,
    Zendesk,
    account,
    entitlement,
    step_context,
    write_zendesk_config,
)

SHIPPED = resources.files("syncwright.connectors.zendesk") / "mappings" / "outbound.yaml"


def _version_2(directory: Path) -> Path:
    """The shipped file at version 2, with the tier renamed through a value map."""
    text = SHIPPED.read_text()
    text = text.replace("version: 1", "version: 2").replace(
        "        from: entitlement.tier\n",
        "        from: entitlement.tier\n        map: tiers\n",
    )
    text = text.replace(
        "entities:\n", "value_maps:\n  tiers: {premium: gold, standard: silver}\nentities:\n", 1
    )
    path = directory / "zendesk_v2.yaml"
    path.write_text(text)
    return path


def _upsert(runtime: Runtime) -> tuple[dict[str, Any], str | None]:
    """Run the step as the engine does and ledger the attempt with the runtime's hooks."""
    ctx = step_context(runtime)
    action = runtime.connection(CONNECTION).action("upsert_entitlement")
    result: dict[str, Any] = action.run(
        ctx, CONNECTION, entitlement("acct_1"), account("acct_1", "Acme Corp")
    )
    LedgerHooks(runtime.ledger, runtime.exceptions).attempt_finished(
        ctx, "succeeded", None, 1.0, result
    )
    (entry,) = runtime.ledger.for_correlation(ctx.correlation_id)
    return result, entry.mapping_version


def test_a_mapping_version_change_alters_the_ledgers_version(
    zendesk: Zendesk, tmp_path: Path
) -> None:
    zendesk.seed_fields(tier_type="text")
    shipped_dir, user_dir = tmp_path / "shipped", tmp_path / "user"
    shipped_dir.mkdir()
    user_dir.mkdir()

    with Runtime(load_settings(write_zendesk_config(shipped_dir, base_url=zendesk.url))) as rt:
        result, recorded = _upsert(rt)
    assert recorded == "zendesk_outbound@1"
    assert result["tier"] == "premium"

    config = write_zendesk_config(user_dir, base_url=zendesk.url)
    mapping = _version_2(user_dir)
    config.write_text(
        config.read_text()
        + f"mappings:\n  - {{name: zendesk_outbound, connection: {CONNECTION}, version: 2, "
        f"path: {mapping.name}}}\n"
    )
    with Runtime(load_settings(config)) as rt:
        result, recorded = _upsert(rt)
    assert recorded == "zendesk_outbound@2"
    assert result["tier"] == "gold"
    (org,) = zendesk.organizations()
    assert org["organization_fields"] == {"entitlement_tier": "gold", "sla_policy": "Premium 4h"}
