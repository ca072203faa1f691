"""The Support API's kinds of record, described once for the generic handlers (``_handlers``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from syncwright.sandbox.zendesk import _organizations as orgs
from syncwright.sandbox.zendesk import _tickets as tickets
from syncwright.sandbox.zendesk import _users as users
from syncwright.sandbox.zendesk._records import find
from syncwright.sandbox.zendesk._state import Record, ZendeskState

Render = Callable[[Record], Record]


@dataclass(frozen=True)
class Resource:
    """How the routes reach, list and render one kind of record."""

    root: str  # one record's key in bodies: "organization"
    path: str  # the collection below /api/v2: "organizations"
    records: Callable[[ZendeskState], Mapping[int, Record]]  # by id: what /{id} and ?ids= find
    render: Callable[[ZendeskState, Record, str], Record]  # the API's form; str: the base URL
    # What lists and external_ids lookups see, when not every stored record (users: the active).
    visible: Callable[[ZendeskState], Iterable[Record]] | None = None

    def get(self, state: ZendeskState, record_id: int) -> Record:
        return find(self.records(state), record_id)

    def listed(self, state: ZendeskState) -> Iterable[Record]:
        return self.visible(state) if self.visible else self.records(state).values()

    def renderer(self, state: ZendeskState, base: str) -> Render:
        return lambda record: self.render(state, record, base)


ORGANIZATION_FIELDS = Resource(
    root="organization_field",
    path="organization_fields",
    records=lambda state: state.organization_fields,
    render=lambda state, field, base: orgs.render_field(field, base),
)
ORGANIZATIONS = Resource(
    root="organization",
    path="organizations",
    records=lambda state: state.organizations,
    render=orgs.render_org,
)
USERS = Resource(
    root="user",
    path="users",
    records=lambda state: state.users,  # deleted users stay readable by id
    render=lambda state, user, base: users.render_user(user, base),
    visible=lambda state: state.active_users(),
)
TICKETS = Resource(
    root="ticket",
    path="tickets",
    records=lambda state: state.tickets,
    render=lambda state, ticket, base: tickets.render_ticket(ticket, base),
)
# Search results name their kind (``result_type``) with these keys.
BY_KIND = {"ticket": TICKETS, "user": USERS, "organization": ORGANIZATIONS}
