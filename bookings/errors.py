"""Booking errors: what the API answers with (409 for a taken slot, 422 for a broken rule)."""

from __future__ import annotations

from typing import Any

from campus.exceptions import InvalidInput, KampusError


class SlotTaken(KampusError):
    """The slot clashes with active bookings; ``conflicts`` lists them as {start, end, title}."""

    code = "slot_taken"
    http_status = 409

    def __init__(self, message: str, *, conflicts: list[dict[str, Any]]) -> None:
        super().__init__(message, conflicts=conflicts)
        self.conflicts = conflicts


class BookingRuleBroken(KampusError):
    """A booking rule refuses the request; ``rule`` names it and ``allowed`` says what would pass."""

    code = "rule_broken"
    http_status = 422

    def __init__(self, message: str, *, code: str, rule: str, allowed: Any = None, **extra: Any) -> None:
        super().__init__(message, code=code, rule=rule, allowed=allowed, **extra)
        self.rule = rule
        self.allowed = allowed


class InvalidRecurrence(InvalidInput):
    code = "invalid_recurrence"


class BookingStateError(KampusError):
    """The booking is not in a state that allows the action (e.g. cancelling a cancelled booking)."""

    code = "invalid_state"
    http_status = 409
