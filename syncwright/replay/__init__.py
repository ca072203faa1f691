"""Replay stored deliveries: pick them by filter, see field by field what processing them again
would change (dry run), then send them through again under new, linked correlation ids."""

from syncwright.intake.dispatcher import REPLAY_MAPPING_HEADER
from syncwright.replay.plan import (
    DeliveryPlan,
    EventPlan,
    FieldChange,
    field_changes,
    plan_delivery,
)
from syncwright.replay.run import (
    REPLAY_OF_HEADER,
    CannotReplayFromStep,
    Replayed,
    replay_delivery,
    replay_from_step,
)
from syncwright.replay.select import MAX_REPLAY, ReplayFilter, select_deliveries

__all__ = [
    "MAX_REPLAY",
    "REPLAY_MAPPING_HEADER",
    "REPLAY_OF_HEADER",
    "CannotReplayFromStep",
    "DeliveryPlan",
    "EventPlan",
    "FieldChange",
    "ReplayFilter",
    "Replayed",
    "field_changes",
    "plan_delivery",
    "replay_delivery",
    "replay_from_step",
    "select_deliveries",
]
