"""Changing bookings: edit, move, reshape a series, cancel, release, hand over."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings import audit, recurrence, rules
from bookings.errors import BookingStateError
from bookings.models import (
    ACTIVE_STATUSES,
    Access,
    Booking,
    BookingAction,
    BookingSeries,
    BookingStatus,
    NotificationKind,
)
from bookings.notifications import notify
from bookings.parts import blocked_until, room_parts
from bookings.permissions import may_hold, require_change_permission, require_change_permission_for_all
from bookings.services import conflicts
from bookings.services.checks import (
    check_basic,
    closed_reason,
    refuse_closed,
    request_expiry,
    require_aware,
    require_capacity,
)
from bookings.services.conflicts import free_blocks, slot_taken, write_blocks
from bookings.services.locking import (
    Scope,
    end_bookings,
    lock_in_scope,
    lock_parts,
    notify_bookers,
    sync_series_exceptions,
)
from bookings.visibility import viewer_for
from campus.exceptions import InvalidInput
from campus.models import Room, User
from campus.opening_hours import opening_calendar
from campus.permissions import room_deciders

EDITABLE_FIELDS = (
    "title",
    "description",
    "purpose",
    "attendees",
    "visibility",
    "on_behalf_of_name",
    "on_behalf_of_contact",
    "on_behalf_of_organisation",
)


@transaction.atomic
def booking_update(
    *,
    booking: Booking,
    actor: User,
    scope: str = Scope.OCCURRENCE,
    room: Room | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    override_reason: str = "",
    now: dt.datetime | None = None,
    **changes: Any,
) -> list[Booking]:
    """Change ``booking`` (and, by ``scope``, the following or all occurrences); all or nothing.

    A new ``start``/``end`` moves the occurrence; for a wider scope every occurrence moves by the
    same local wall-clock shift and takes the new length, each staying in its own room unless
    ``room`` is given. Moves are checked like new bookings, per room.
    """
    now = now or timezone.now()
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(
            _("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            errors=[{"field": name, "message": _("This field cannot be changed.")} for name in sorted(unknown)],
        )
    if "title" in changes and not str(changes["title"]).strip():
        message = _("Give the booking a title.")
        raise InvalidInput(message, errors=[{"field": "title", "message": message}])
    anchor, targets = lock_in_scope(booking, scope, now=now)
    require_change_permission(actor, anchor)
    if not targets:
        raise BookingStateError(_("There is nothing left to change: the booking has ended or is no longer active."))
    if room is not None and room.building.campus_id != anchor.campus_id:
        message = _("A booking cannot be moved to another campus; book the room there instead.")
        raise InvalidInput(message, errors=[{"field": "room", "message": message}])
    moving = start is not None or end is not None or (room is not None and any(t.room_id != room.pk for t in targets))
    if moving:
        # A booking that has started stays where it is; only the ones still ahead move.
        if anchor.start <= now:
            raise BookingStateError(
                _("The booking has already started and cannot be moved; release it instead."), code="already_started"
            )
        if anchor.pk not in {target.pk for target in targets}:
            raise BookingStateError(
                _("This occurrence is no longer active: move the series from one of its active occurrences."),
                code="not_active",
            )
        targets = [target for target in targets if target.start > now]
    require_change_permission_for_all(actor, targets)
    before = {target.pk: audit.snapshot(target) for target in targets}
    first_original = min(targets, key=lambda t: t.recurrence_id or t.start)
    first_original_id = first_original.recurrence_id
    retimed = start is not None or end is not None
    reshaping = retimed and anchor.series_id is not None and scope != Scope.OCCURRENCE
    verdicts: dict[int, rules.RuleCheck] = {}
    anchor_start_before = anchor.start
    if moving:
        verdicts = _move(
            targets,
            anchor=anchor,
            actor=actor,
            room=room,
            start=start,
            end=end,
            attendees=changes.get("attendees"),
            override_reason=override_reason,
            now=now,
            shift_instances=reshaping,
        )
    elif changes.get("attendees") is not None:
        for target in targets:
            require_capacity(target.room, changes["attendees"])
    if reshaping and first_original_id is not None:
        shift = recurrence.wall_duration(anchor_start_before, anchor.start, anchor.campus.zone)
        _reshape_series(anchor.series, targets, first_original_id=first_original_id, shift=shift, anchor=anchor)
    to_request = [
        t
        for t in targets
        if t.pk in verdicts and verdicts[t.pk].access == Access.REQUEST and t.status == BookingStatus.CONFIRMED
    ]
    requested_ids = {t.pk for t in to_request}
    # A request is one decision: it expires at the latest when its first booking starts.
    first_requested = min((t.start for t in to_request), default=None)
    for target in targets:
        for name, value in changes.items():
            setattr(target, name, value)
        if target.pk in requested_ids:
            # A move into a room (or time) that others may only request goes back to the room's deciders.
            target.status = BookingStatus.PENDING
            target.expires_at = request_expiry(verdicts[target.pk].policy, now=now, start=first_requested)
        target.save()
    # A change that changes nothing (an empty PATCH, the same values again) is answered, not audited.
    changed = [target for target in targets if audit.snapshot(target) != before[target.pk]]
    if changed:
        audit.record(action=BookingAction.CHANGE, bookings=changed, actor=actor, before=before)
    if to_request:
        audit.record(action=BookingAction.REQUEST, bookings=to_request, actor=actor)
        for room_id in dict.fromkeys(t.room_id for t in to_request):
            first = next(t for t in to_request if t.room_id == room_id)
            notify(
                kind=NotificationKind.REQUEST,
                booking=first,
                recipients=room_deciders(room=first.room, on=now.astimezone(first.room.building.campus.zone).date()),
            )
    overridden = [t for t in targets if t.pk in verdicts and verdicts[t.pk].overridden]
    if overridden:
        audit.record(
            action=BookingAction.OVERRIDE,
            bookings=overridden,
            actor=actor,
            reason=override_reason.strip(),
            before={t.pk: {"rules": verdicts[t.pk].overridden} for t in overridden},
        )
    return targets


def _reshape_series(
    series: BookingSeries,
    moved: list[Booking],
    *,
    first_original_id: dt.datetime,
    shift: dt.timedelta,
    anchor: Booking,
) -> None:
    """Keep the stored rule true after ``moved`` (the remaining or following occurrences) got new times.

    When earlier occurrences stay as they were, the series is split like calendars do: the old
    series now ends before the first moved occurrence and a new series, with the new times, holds
    the moved ones. Otherwise the series itself takes the new start (and weekdays). Either way the
    exceptions are derived again, so cancelled and moved occurrences travel with their series.
    """
    zone = zoneinfo.ZoneInfo(series.time_zone)
    ordered = sorted(moved, key=lambda b: b.recurrence_id)
    first = ordered[0]
    shift_days = (first.recurrence_id.astimezone(zone).date() - first_original_id.astimezone(zone).date()).days
    length = recurrence.wall_duration(anchor.start, anchor.end, zone)
    repeat = recurrence.RepeatRule.parse(series.rrule, zone=zone)
    new_rule = str(repeat.shifted(shift_days).ending(ordered[-1].recurrence_id))
    new_dtstart = first.recurrence_id
    new_dtend = recurrence.add_wall_time(new_dtstart, length, zone)
    moved_ids = [b.pk for b in moved]
    # Active occurrences that stay where they are (they have started) but were moved on their own to
    # after the split go with the new series as overrides: their original start moves with the rule.
    carried = list(
        series.occurrences.exclude(pk__in=moved_ids).filter(
            recurrence_id__gte=first_original_id, status__in=ACTIVE_STATUSES
        )
    )
    for occurrence in carried:
        occurrence.recurrence_id = recurrence.add_wall_time(occurrence.recurrence_id, shift, zone).astimezone(dt.UTC)
        occurrence.save(update_fields=["recurrence_id"])
    earlier = (
        series.occurrences.exclude(pk__in=moved_ids)
        .filter(recurrence_id__lt=first_original_id, status__in=ACTIVE_STATUSES)
        .exists()
    )
    if not earlier:
        series.rrule, series.dtstart, series.dtend = new_rule, new_dtstart, new_dtend
        series.save(update_fields=["rrule", "dtstart", "dtend"])
        _require_rule_describes(series)
        sync_series_exceptions([series.pk])
        return
    series.rrule = str(repeat.ending(first_original_id - dt.timedelta(seconds=1)))
    series.save(update_fields=["rrule"])
    following = BookingSeries.objects.create(
        campus=series.campus,
        rrule=new_rule,
        dtstart=new_dtstart,
        dtend=new_dtend,
        time_zone=series.time_zone,
        exdates=[],
        owner=series.owner,
    )
    # The occurrences of the old series at or after the split (cancelled ones too) go with the new one.
    Booking.objects.filter(series=series, recurrence_id__gte=first_original_id).exclude(pk__in=moved_ids).update(
        series=following
    )
    Booking.objects.filter(pk__in=moved_ids).update(series=following)
    for booking in moved:
        booking.series = following
    _require_rule_describes(following)
    sync_series_exceptions([series.pk, following.pk])


def _require_rule_describes(series: BookingSeries) -> None:
    """Refuse a series move after which the rule no longer gives every active occurrence's original start.

    A shift by whole days keeps weekly weekdays in step, but not every rule: the 15th of the month,
    the first Monday or an alternate-weekend rule would give other dates than the moved occurrences.
    """
    zone = zoneinfo.ZoneInfo(series.time_zone)
    instances = set(recurrence.series_instances(rule=series.rrule, dtstart=series.dtstart, zone=zone))
    active = Booking.objects.filter(series=series, status__in=ACTIVE_STATUSES).values_list("recurrence_id", flat=True)
    if any(recurrence_id not in instances for recurrence_id in active):
        message = _(
            "This series repeats by a rule (%(rule)s) that cannot be moved to other days as a whole: "
            "its dates would no longer follow the rule. Move the occurrences one at a time, or cancel "
            "the rest and book a new series."
        ) % {"rule": series.rrule}
        raise InvalidInput(message, errors=[{"field": "start", "message": message}], code="rule_cannot_move")


def _move(
    targets: list[Booking],
    *,
    anchor: Booking,
    actor: User,
    room: Room | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    attendees: int | None,
    override_reason: str,
    now: dt.datetime,
    shift_instances: bool,
) -> dict[int, rules.RuleCheck]:
    """Move ``targets`` by the anchor's shift, into ``room`` or each its own; return each target's rule verdict.

    Rules, opening hours, closures and clashes are checked per destination room; the parts of all
    destinations are locked at once, in id order. With ``shift_instances`` (a series-wide move) the
    occurrences' original starts move too; otherwise a moved occurrence keeps it (an override).
    """
    zone = anchor.campus.zone
    new_start = start or anchor.start
    new_end = end or (new_start + (anchor.end - anchor.start) if start else anchor.end)
    require_aware(new_start, "start")
    require_aware(new_end, "end")
    if new_start >= new_end:
        message = _("The end must be after the start.")
        raise InvalidInput(message, errors=[{"field": "end", "message": message}])
    shift = recurrence.wall_duration(anchor.start, new_start, zone)
    length = recurrence.wall_duration(new_start, new_end, zone)
    destinations: dict[int, Room] = {}
    moves: dict[int, list[tuple[Booking, recurrence.Occurrence]]] = {}
    for target in targets:
        if target.pk == anchor.pk:
            occurrence = recurrence.Occurrence(new_start.astimezone(zone), new_end.astimezone(zone))
        else:
            moved_start = recurrence.add_wall_time(target.start, shift, zone)
            occurrence = recurrence.Occurrence(moved_start, recurrence.add_wall_time(moved_start, length, zone))
            for moment, field_name in ((occurrence.start, "start"), (occurrence.end, "end")):
                problem = recurrence.wall_time_problem(moment, zone)
                if problem is not None:
                    message = problem + " " + _("Choose another time.")
                    raise InvalidInput(message, errors=[{"field": field_name, "message": message}])
        destination = room or target.room
        destinations[destination.pk] = destination
        moves.setdefault(destination.pk, []).append((target, occurrence))
    lock_parts(*destinations.values())
    viewer = viewer_for(actor)
    excluded = [t.pk for t in targets]
    verdicts: dict[int, rules.RuleCheck] = {}
    for room_id, room_moves in moves.items():
        destination = destinations[room_id]
        occurrences = [occurrence for _target, occurrence in room_moves]
        first = min(occurrences, key=lambda o: o.start)
        check_basic(room=destination, start=first.start, end=first.end, now=now)
        last_end = max(o.end for o in occurrences)
        calendar = opening_calendar(destination, first.start, last_end)
        closures = list(rules.closures_for(destination, first.start, last_end))
        for occurrence in occurrences:
            closed = closed_reason(calendar, closures, occurrence)
            if closed is not None:
                raise refuse_closed(*closed, calendar, occurrence)
        own_attendees = [t.attendees for t, _o in room_moves if t.attendees is not None]
        check = rules.check_rules(
            room=destination,
            user=actor,
            institution=anchor.institution,
            occurrences=[(o.start, o.end) for o in occurrences],
            attendees=attendees if attendees is not None else max(own_attendees, default=None),
            now=now,
            override_reason=override_reason,
            is_series=anchor.series_id is not None,
            exclude_booking_ids=excluded,
            booker=anchor.booked_by,
        )
        clashes = conflicts.find_conflicts(
            room=destination, occurrences=occurrences, viewer=viewer, exclude_booking_ids=excluded
        )
        if clashes:
            raise slot_taken([c for index in sorted(clashes) for c in clashes[index]])
        for target, _occurrence in room_moves:
            verdicts[target.pk] = check
    if len(moves) > 1:
        _refuse_moves_clashing_with_each_other(moves, destinations)
    free_blocks(targets)
    for room_id, room_moves in moves.items():
        for target, occurrence in room_moves:
            if shift_instances and target.recurrence_id is not None:
                target.recurrence_id = recurrence.add_wall_time(target.recurrence_id, shift, zone).astimezone(dt.UTC)
            target.room = destinations[room_id]
            target.start = occurrence.start.astimezone(dt.UTC)
            target.end = occurrence.end.astimezone(dt.UTC)
            target.save()
        write_blocks([target for target, _o in room_moves], room=destinations[room_id], viewer=viewer)
    return verdicts


def _refuse_moves_clashing_with_each_other(
    moves: dict[int, list[tuple[Booking, recurrence.Occurrence]]], destinations: dict[int, Room]
) -> None:
    """Refuse moves into different rooms that would overlap one another on a shared part (a hall and its section)."""
    spans = sorted(
        (
            (occurrence.start, blocked_until(destinations[room_id], occurrence.end), room_id, occurrence)
            for room_id, room_moves in moves.items()
            for _target, occurrence in room_moves
        ),
        key=lambda span: span[0],
    )
    parts = {room_id: {part.pk for part in room_parts(room)} for room_id, room in destinations.items()}
    for index, (start, until, room_id, occurrence) in enumerate(spans):
        for later_start, _until, later_room_id, later in spans[index + 1 :]:
            if later_start >= until:
                break
            if later_room_id != room_id and parts[room_id] & parts[later_room_id]:
                room = destinations[room_id]
                raise slot_taken(
                    [
                        {
                            "start": start,
                            "end": occurrence.end,
                            "title": None,
                            "room": room.code,
                            "room_label": room.label,
                            "requested_start": later.start,
                        }
                    ]
                )


@transaction.atomic
def booking_cancel(
    *,
    booking: Booking,
    actor: User,
    scope: str = Scope.OCCURRENCE,
    reason: str = "",
    now: dt.datetime | None = None,
) -> list[Booking]:
    """Cancel ``booking`` (or, by ``scope``, the following or all future occurrences) and free the slots.

    The booker is told when someone else cancels.
    """
    now = now or timezone.now()
    anchor, targets = lock_in_scope(booking, scope, now=now)
    require_change_permission(actor, anchor)
    if not targets:
        raise BookingStateError(_("There is nothing to cancel: the booking has ended or is no longer active."))
    require_change_permission_for_all(actor, targets)
    before = {target.pk: audit.snapshot(target) for target in targets}
    end_bookings(targets, status=BookingStatus.CANCELLED, now=now)
    audit.record(action=BookingAction.CANCEL, bookings=targets, actor=actor, before=before, reason=reason)
    notify_bookers(NotificationKind.CANCELLED, targets, reason=reason, except_user=actor)
    return targets


@transaction.atomic
def booking_release(*, booking: Booking, actor: User, now: dt.datetime | None = None) -> Booking:
    """End a running booking early ("we finished"): status released, the rest of the slot free."""
    now = now or timezone.now()
    anchor, targets = lock_in_scope(booking, Scope.OCCURRENCE, now=now)
    require_change_permission(actor, anchor)
    if not targets:
        if anchor.status not in ACTIVE_STATUSES:
            raise BookingStateError(_("Only an active booking can be released."))
        raise BookingStateError(_("The booking has already ended."), code="already_ended")
    booking = targets[0]
    if now < booking.start:
        raise BookingStateError(_("The booking has not started yet: cancel it instead."), code="not_started")
    before = {booking.pk: audit.snapshot(booking)}
    end_bookings([booking], status=BookingStatus.RELEASED, now=now, released_at=now)
    audit.record(action=BookingAction.RELEASE, bookings=[booking], actor=actor, before=before)
    if booking.booked_by_id != actor.pk:
        notify(kind=NotificationKind.RELEASED, booking=booking, recipients=[booking.booked_by])
    return booking


@transaction.atomic
def booking_series_handover(
    *, booking: Booking, actor: User, to_user: User, reason: str = "", now: dt.datetime | None = None
) -> list[Booking]:
    """Hand a series (or a single booking) and its future occurrences to ``to_user``, e.g. a substitute."""
    now = now or timezone.now()
    booking, targets = lock_in_scope(booking, Scope.SERIES, now=now)
    require_change_permission(actor, booking)
    if booking.booked_by_id == to_user.pk:
        message = _("%(user)s already holds this booking.") % {"user": to_user.username}
        raise InvalidInput(message, errors=[{"field": "to_user", "message": message}])
    if not may_hold(to_user, booking):
        raise handover_refused(booking, to_user.username)
    if not targets:
        raise BookingStateError(_("There is nothing left to hand over."))
    rules.check_membership_covers(
        booker=to_user,
        institution=booking.institution,
        campus=booking.campus,
        occurrences=[(t.start, t.end) for t in targets],
    )
    require_change_permission_for_all(actor, targets)
    before = {target.pk: audit.snapshot(target) for target in targets}
    Booking.objects.filter(pk__in=[t.pk for t in targets]).update(booked_by=to_user, updated_at=now)
    for target in targets:
        target.booked_by = to_user
    if booking.series_id is not None:
        BookingSeries.objects.filter(pk=booking.series_id).update(owner=to_user)
    audit.record(action=BookingAction.HANDOVER, bookings=targets, actor=actor, before=before, reason=reason)
    notify(kind=NotificationKind.HANDOVER, booking=targets[0], recipients=[to_user], reason=reason)
    return targets


def handover_refused(booking: Booking, username: str, *, field: str = "to_user") -> InvalidInput:
    """Return the refusal of a handover to ``username``: the same words whether or not such a person exists,
    naming only what the caller typed (no one's full name, no hint of who has an account)."""
    if booking.institution_id is None:
        message = _("%(user)s is not a member of this campus.") % {"user": username}
    else:
        message = _("%(user)s is not a member of %(institution)s.") % {
            "user": username,
            "institution": booking.institution,
        }
    return InvalidInput(message, errors=[{"field": field, "message": message}])
