"""A support escalation that needs a commercial decision, as a Salesforce Task on the account.

:func:`escalate_case` writes an open Task (``WhatId`` = the Account, so it shows in the
account's activity and the account owner's task list) once per escalation: the Task carries the
escalation's id in ``Syncwright_Id__c`` (an external id field the org needs), it is looked up by
that id first and created only when missing, so a retry or a repeated event neither duplicates it
nor reopens a Task a person has completed. :func:`probe_escalation` is the same lookup.
https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_task.htm
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from syncwright.connectors import ledger_block
from syncwright.connectors.salesforce.outbound import _connector, _native_id
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError

if TYPE_CHECKING:  # the connector imports this module to declare its actions
    from syncwright.connectors.salesforce.connector import SalesforceConnector

__all__ = ["ESCALATION_ID_FIELD", "escalate_case", "probe_escalation", "task_body"]

JSON = dict[str, Any]
ESCALATION_ID_FIELD = "Syncwright_Id__c"
# Canonical case priority -> Task.Priority picklist value.
_PRIORITY = {"urgent": "High", "high": "High", "normal": "Normal", "low": "Low"}


def task_body(account_native_id: str, escalation: Mapping[str, Any]) -> JSON:
    """The Task for ``escalation`` (``id``, ``reason``, ``subject``, ``reference``,
    ``priority``, ``opened_at``)."""
    reason = str(escalation["reason"]).replace("_", " ").capitalize()
    subject = f"{reason}: {escalation['subject']}"
    return {
        "Subject": subject if len(subject) <= 255 else subject[:254] + "…",
        "WhatId": account_native_id,
        "Status": "Not Started",
        "Priority": _PRIORITY.get(str(escalation.get("priority")), "Normal"),
        "Description": (
            f"{escalation['reference']} asks for a commercial decision ({escalation['reason']}). "
            f"Opened {escalation.get('opened_at') or 'unknown'}; decide in the CRM and reply "
            "on the ticket."
        ),
    }


def _find(connector: SalesforceConnector, escalation_id: str) -> str | None:
    # https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm
    quoted = escalation_id.replace("\\", "\\\\").replace("'", "\\'")
    soql = f"SELECT Id FROM Task WHERE {ESCALATION_ID_FIELD} = '{quoted}'"  # noqa: S608
    for record in connector.client.query(soql):
        return str(record["Id"])
    return None


def _result(
    connector: SalesforceConnector,
    account_id: str,
    task_id: str,
    body: JSON,
    *,
    created: bool | None,
) -> JSON:
    # The Task is built here, not by a mapping file; the ledger names the connection's
    # outbound mapping in effect, as other Python-built writes do.
    ref = connector.mapping("outbound").ref
    return {
        "native_id": task_id,
        "created": created,
        "ledger": ledger_block(
            connector.name, "account", account_id, task_id, body, mapping_version=ref
        ),
    }


def escalate_case(
    ctx: StepContext, connection: str, account_id: str, escalation: Mapping[str, Any]
) -> JSON:
    """An open Task on the Salesforce Account of ``account_id`` for ``escalation``, unless
    one with its id exists already.
    https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_upsert.htm
    """
    connector = _connector(ctx, connection)
    native = _native_id(ctx, "account", account_id, connection)
    escalation_id = str(escalation["id"])
    body = task_body(native, escalation)
    found = _find(connector, escalation_id)
    if found is not None:
        return _result(connector, account_id, found, body, created=False)
    if ESCALATION_ID_FIELD not in connector.client.field_names("Task"):
        raise BusinessRuleError(
            f"Salesforce Task has no field {ESCALATION_ID_FIELD}",
            code="salesforce.field_missing",
            remediation=f"Create the custom text field {ESCALATION_ID_FIELD} on Activity (Task) "
            "in Salesforce, marked External ID and Unique, give the integration user edit "
            "access; then retry this exception.",
        )
    answer = connector.client.upsert("Task", ESCALATION_ID_FIELD, escalation_id, body)
    task_id = answer.get("id") or _find(connector, escalation_id)
    return _result(connector, account_id, str(task_id), body, created=True)


def probe_escalation(
    ctx: StepContext, connection: str, account_id: str, escalation: Mapping[str, Any]
) -> JSON | None:
    """After an uncertain write: is there a Task with the escalation's id?"""
    connector = _connector(ctx, connection)
    native = _native_id(ctx, "account", account_id, connection)
    found = _find(connector, str(escalation["id"]))
    if found is None:
        return None
    return _result(connector, account_id, found, task_body(native, escalation), created=None)
