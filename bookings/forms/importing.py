"""The timetable import page's forms: choose the file, the room and the institution; confirm the checked file.

The confirmation carries the checked file and its options in one signed value (``ImportToken``),
so that the import books exactly the file the preview showed — checked again, as every booking
is — without keeping anything on the server between the two steps, whichever web process answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core import signing
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bookings.forms.booking import CAMPUS_ITSELF, grouped_room_choices, override_reason_field
from bookings.forms.errors import DomainForm
from bookings.ical_import import MAX_FILE_BYTES, file_too_large
from bookings.permissions import booking_reach
from campus.models import Institution, Room, User
from campus.permissions import managed_rooms

# How long a checked file may wait for its confirmation.
TOKEN_MAX_AGE = 60 * 60


def importable_rooms(user: User) -> QuerySet[Room]:
    """Return the bookable rooms ``user`` keeps, in the order the page lists them."""
    return (
        managed_rooms(user)
        .filter(is_bookable=True)
        .select_related("building__campus")
        .order_by("building__code", "code")
    )


class IcalUploadForm(DomainForm):
    """Step 1: the file and where and for whom its events are booked."""

    file = forms.FileField(
        label=gettext_lazy("Calendar file (.ics)"),
        help_text=gettext_lazy("An iCalendar file exported from a timetable program or a calendar, at most 2 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".ics,text/calendar"}),
    )
    room = forms.TypedChoiceField(
        label=gettext_lazy("Room"),
        coerce=int,
        choices=[],
        help_text=gettext_lazy("Every event is booked in this room, whatever place the file names."),
    )
    institution = forms.ChoiceField(label=gettext_lazy("For institution"), choices=[], required=False)
    override_reason = override_reason_field()

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rooms = {room.pk: room for room in importable_rooms(user)}
        self.fields["room"].choices = [("", _("Choose a room")), *grouped_room_choices(self.rooms.values())]
        institutions, campus_itself = booking_reach(user).institutions_to_book_for()
        choices = [(str(institution.pk), institution.name) for institution in institutions]
        if campus_itself:
            choices.append((CAMPUS_ITSELF, _("The campus itself (facility services)")))
        self.institutions = {str(institution.pk): institution for institution in institutions}
        if len(choices) == 1:
            self.fields["institution"].choices = choices
            self.initial.setdefault("institution", choices[0][0])
        else:
            self.fields["institution"].choices = [("", _("Choose…")), *choices]
            self.fields["institution"].required = True

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size is not None and upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(file_too_large().message)
        return upload.read(MAX_FILE_BYTES + 1)

    def clean_room(self) -> Room:
        room = self.rooms.get(self.cleaned_data["room"])
        if room is None:
            raise forms.ValidationError(_("Choose a room from the list."))
        return room

    def clean_institution(self) -> Institution | None:
        return self.institutions.get(self.cleaned_data.get("institution") or "")

    def token(self) -> ImportToken:
        """Return the checked file and its options, to sign into the confirmation."""
        data = self.cleaned_data
        upload = self.files.get(self.add_prefix("file"))
        return ImportToken(
            content=data["file"],
            file_name=getattr(upload, "name", "") or "",
            room_id=data["room"].pk,
            institution_id=data["institution"].pk if data["institution"] else None,
            override_reason=data.get("override_reason", "").strip(),
        )


@dataclass(frozen=True)
class ImportToken:
    """The file the preview checked and the options it was checked with."""

    content: bytes
    file_name: str
    room_id: int
    institution_id: int | None
    override_reason: str

    @staticmethod
    def _salt(user: User) -> str:
        # Bound to the person: a confirmation cannot be replayed by someone else.
        return f"kampus.ical-import.{user.pk}"

    def sign(self, user: User) -> str:
        payload = {
            # Text compresses far better than its base64; a file is signed only after it was read as UTF-8.
            "content": self.content.decode("utf-8"),
            "file_name": self.file_name,
            "room": self.room_id,
            "institution": self.institution_id,
            "override_reason": self.override_reason,
        }
        return signing.dumps(payload, salt=self._salt(user), compress=True)

    @classmethod
    def unsign(cls, value: str, user: User) -> ImportToken:
        """Return the token signed as ``value`` for ``user``; raise ValidationError if it is foreign or stale."""
        try:
            payload = signing.loads(value, salt=cls._salt(user), max_age=TOKEN_MAX_AGE)
            return cls(
                content=str(payload["content"]).encode("utf-8"),
                file_name=str(payload["file_name"]),
                room_id=int(payload["room"]),
                institution_id=int(payload["institution"]) if payload["institution"] is not None else None,
                override_reason=str(payload["override_reason"]),
            )
        except signing.SignatureExpired:
            raise forms.ValidationError(
                _("The check of this file is more than an hour old: check the file again.")
            ) from None
        except (signing.BadSignature, KeyError, TypeError, ValueError, UnicodeError):
            raise forms.ValidationError(_("The checked file could not be read back: check the file again.")) from None


class IcalConfirmForm(DomainForm):
    """Step 2: book the checked file. Its errors are the form's own (the token is a hidden field)."""

    # The name the token's field has in a POST, by which the page tells a confirmation from an upload.
    TOKEN = "confirm-token"

    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "confirm")
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "token" not in cleaned:
            raise forms.ValidationError(_("The checked file could not be read back: check the file again."))
        cleaned["token"] = ImportToken.unsign(cleaned["token"], self.user)
        return cleaned
