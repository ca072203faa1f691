"""Small pieces without a server: ids, call options, versions, CDC log replay."""

from __future__ import annotations

from syncwright.sandbox.salesforce import (
    REPLAY_ALL,
    REPLAY_NEW,
    SalesforceState,
    call_options_client,
    change_origin,
    make_id,
    normalize_id,
)
from syncwright.sandbox.salesforce._rest import release_label, versions_list


def test_ids_carry_the_case_safe_suffix() -> None:
    record_id = make_id("001", 123456)
    assert len(record_id) == 18 and record_id.isalnum()
    assert normalize_id(record_id[:15]) == record_id
    assert normalize_id(record_id) == record_id
    # A different case in the 15-char body changes the suffix: the 18-char form detects it.
    swapped = record_id[:15].swapcase() + record_id[15:]
    assert normalize_id(swapped) is None or normalize_id(swapped) != record_id
    for bad in ("", "001", "001!00000000000", "x" * 17):
        assert normalize_id(bad) is None


def test_call_options_and_change_origin() -> None:
    assert call_options_client("client=syncwright") == "syncwright"
    assert call_options_client("defaultNamespace=ns, client=Astro/1.0") == "Astro/1.0"
    assert call_options_client(None) is None and call_options_client("client=") is None
    assert change_origin("59.0", "syncwright") == "com/salesforce/api/rest/59.0;client=syncwright"
    assert change_origin("59.0", None) == "com/salesforce/api/rest/59.0"


def test_versions_and_release_labels() -> None:
    assert release_label("59.0") == "Winter '24"
    assert release_label("60.0") == "Spring '24"
    assert release_label("58.0") == "Summer '23"
    listed = versions_list("59.0")
    assert listed[-1] == {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"}


def test_event_log_replay_ids_survive_a_reset() -> None:
    state = SalesforceState()
    state.insert("Account", {"Name": "a"})
    state.insert("Account", {"Name": "b"})
    assert [e.replay_id for e in state.events.since(REPLAY_ALL)] == [1, 2]
    assert state.events.since(REPLAY_NEW) == []
    state.reset()
    state.insert("Account", {"Name": "c"})
    # Replay ids never go back, so a subscriber's stored position stays meaningful.
    assert [e.replay_id for e in state.events.since(REPLAY_ALL)] == [3]
    assert [e.replay_id for e in state.events.since(1)] == [3]
