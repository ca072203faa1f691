"""Which connections of a role a workflow writes an account's documents to.

Every workflow asks here instead of listing ``connections_with_role`` itself, so that routing
rules (which ERP connection or subsidiary serves which customer) live in one place. Today every
connection with the role and the action is a target.
"""

from __future__ import annotations

from syncwright.connectors import Connector
from syncwright.engine import WorkflowRun


def targets_for_account(
    run: WorkflowRun, role: str, action: str, account_id: str | None
) -> list[Connector]:
    """The connections with ``options.role: role`` that can do ``action`` for ``account_id``."""
    del account_id  # not routed yet: every connection of the role serves every account
    found: list[Connector] = run.services.connections_with_role(role)
    return [target for target in found if target.can(action)]
