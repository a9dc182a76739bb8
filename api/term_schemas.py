"""Schemas of the term calendar API: terms and breaks of an institution's or the campus's school year."""

import datetime as dt
from typing import Annotated

from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Field, FilterLookup, FilterSchema, Schema

from campus.exceptions import InvalidInput
from campus.models import TermKind


class TermOut(Schema):
    id: int
    institution: int | None = Field(None, alias="institution_id")
    campus: int | None = Field(None, alias="campus_id")
    kind: TermKind
    name: str
    start: dt.date = Field(..., description="First day (local date, included).")
    end: dt.date = Field(..., description="Last day (local date, included).")


class TermIn(Schema):
    institution: int | None = Field(None, ge=1, le=2**62, description="The institution's calendar; or give `campus`.")
    campus: int | None = Field(None, ge=1, le=2**62, description="The campus's calendar (for shared rooms).")
    kind: TermKind
    name: str = Field(..., min_length=1, max_length=200)
    start: dt.date
    end: dt.date


class TermFilter(FilterSchema):
    """Filters of ``GET /terms``: one calendar, an institution's or the campus's."""

    institution: Annotated[int | None, FilterLookup("institution_id")] = Field(
        None, description="The institution's calendar."
    )
    campus: Annotated[int | None, FilterLookup("campus_id")] = Field(
        None, description="The campus's calendar (for shared rooms). Give `institution` or `campus`, not both."
    )

    def get_filter_expression(self) -> Q:
        # A calendar belongs to an institution or to the campus, so both at once could only match nothing.
        if self.institution is not None and self.campus is not None:
            message = _("Give institution or campus, not both: a term calendar belongs to one of them.")
            raise InvalidInput(
                message, errors=[{"field": name, "message": message} for name in ("institution", "campus")]
            )
        return super().get_filter_expression()
