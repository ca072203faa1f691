"""Glue between FastAPI handlers and the state: the parsed call, JSON responses, list helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, Response

from . import _billing as bl
from . import _clock as clk
from ._forms import Params
from ._state import RequestContext, StripeState
from ._views import expand, expand_paths, paginate


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # Stripe answers pretty-printed JSON.
    return Response(
        json.dumps(body, indent=2),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


@dataclass
class Call:
    """One API request as the gateway parsed it."""

    state: StripeState
    params: Params
    ctx: RequestContext
    expand: list[str] = field(default_factory=list)

    @property
    def request_id(self) -> str:
        return self.ctx.request_id or ""

    def ok(self, kind: str, obj: dict[str, Any]) -> Response:
        st = self.state
        return json_response(expand(st, st.render(kind, obj), self.expand))

    def raw(self, body: dict[str, Any]) -> Response:
        return json_response(expand(self.state, body, self.expand))

    def updated(
        self, kind: str, obj: dict[str, Any], before: dict[str, Any], *, event: str | None = None
    ) -> Response:
        """End an update: emit ``<kind>.updated`` (or ``event``) if anything visible changed
        since ``before``, then answer the object."""
        bl.emit_update(self.state, event or f"{kind}.updated", kind, obj, before, self.ctx)
        return self.ok(kind, obj)

    def retrieve(self, kind: str, object_id: str) -> Response:
        """``GET`` one object: no parameters but ``expand`` (and any the caller ignored)."""
        self.params.finish()
        with self.state.lock:
            return self.ok(kind, self.state.get(kind, object_id))

    def act(self, kind: str, object_id: str, action: ObjectAction) -> Response:
        """A ``POST`` action without parameters (``/void``, ``/send``, ...): run ``action`` on
        the object under the lock, then answer the object as it now is."""
        self.params.finish()
        st = self.state
        with st.lock:
            obj = st.get(kind, object_id)
            action(self, obj)
            return self.ok(kind, obj)

    def list_where(
        self,
        kind: str,
        url: str,
        keep: Callable[[dict[str, Any]], bool] | None = None,
        *,
        kind_name: str | None = None,
    ) -> Response:
        """A page of the stored ``kind`` objects that ``keep`` accepts (all without ``keep``).

        Call it after taking the filter parameters: pagination takes its own and then finishes.
        """
        st = self.state
        with st.lock:
            items = st.sorted_objects(kind)
            if keep is not None:
                items = [o for o in items if keep(o)]
            return self.listing(kind, items, url, kind_name=kind_name)

    def listing(
        self,
        kind: str,
        items: list[dict[str, Any]],
        url: str,
        *,
        lookup: Callable[[str], dict[str, Any] | None] | None = None,
        kind_name: str | None = None,
        render: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> Response:
        st = self.state
        body = paginate(
            st,
            items,
            self.params,
            url,
            lookup=lookup or (lambda oid: st.find(kind, oid)),
            kind_name=kind_name or kind,
            render=render or (lambda o: st.render(kind, o)),
        )
        self.params.finish()
        return json_response(expand(st, body, self.expand))


# What ``Call.act`` runs on the object; any return value is ignored.
ObjectAction = Callable[[Call, dict[str, Any]], object]


def begin(request: Request) -> Call:
    """The call the gateway attached to this request; consumes ``expand`` and lets time pass."""
    call: Call = request.state.stripe_call
    call.expand = expand_paths(call.params)
    with call.state.lock:
        clk.tick(call.state)
    return call


def deleted(object_id: str, kind: str) -> dict[str, Any]:
    return {"id": object_id, "object": kind, "deleted": True}
