"""When a rule is due: intervals (whole seconds, aligned to the epoch so every worker agrees on
the slot) and cron expressions (croniter). A slot that passed while no worker ran is caught up
once, not once per missed slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from croniter import croniter


def current_slot(schedule: int | str, now: datetime) -> datetime:
    """The most recent due time at or before ``now``."""
    if isinstance(schedule, int):
        epoch = int(now.timestamp())
        return datetime.fromtimestamp(epoch - epoch % schedule, UTC)
    slot: datetime = croniter(schedule, now.astimezone(UTC)).get_prev(datetime)
    return slot.astimezone(UTC)


def next_slot(schedule: int | str, now: datetime) -> datetime:
    if isinstance(schedule, int):
        return current_slot(schedule, now) + timedelta(seconds=schedule)
    slot: datetime = croniter(schedule, now.astimezone(UTC)).get_next(datetime)
    return slot.astimezone(UTC)
