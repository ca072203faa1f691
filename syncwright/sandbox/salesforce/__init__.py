"""Salesforce emulator: REST API (sObjects, SOQL, composite, collections, limits), OAuth, and
Change Data Capture, served as a FastAPI app; the Pub/Sub API (gRPC) over the same change events
is ``_pubsub.PubSubServer`` (needs the ``salesforce-cdc`` extra). See README.md in this folder.

    from syncwright.sandbox._server import ServerThread
    from syncwright.sandbox._tls import make_self_signed_cert
    from syncwright.sandbox.salesforce import SalesforceState, create_app

    certfile, keyfile = make_self_signed_cert(tmp_dir)
    state = SalesforceState()
    server = ServerThread(create_app(state), certfile=certfile, keyfile=keyfile).start()
"""

from ._app import call_options_client, change_origin, create_app
from ._auth import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
)
from ._cdc import REPLAY_ALL, REPLAY_NEW, ChangeEvent, ChangeEventLog, Subscriber
from ._errors import ApiError, SalesforceApiError
from ._ids import make_id, normalize_id
from ._schema import SYNCWRIGHT_CUSTOM_FIELDS, CustomField, FieldDef, ObjectDef
from ._state import SalesforceState, Transaction

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_PASSWORD",
    "DEFAULT_USERNAME",
    "REPLAY_ALL",
    "REPLAY_NEW",
    "SYNCWRIGHT_CUSTOM_FIELDS",
    "ApiError",
    "ChangeEvent",
    "ChangeEventLog",
    "CustomField",
    "FieldDef",
    "ObjectDef",
    "SalesforceApiError",
    "SalesforceState",
    "Subscriber",
    "Transaction",
    "call_options_client",
    "change_origin",
    "create_app",
    "make_id",
    "normalize_id",
]
