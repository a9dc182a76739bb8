"""Schemas of the term calendar API: terms and breaks of an institution's or the campus's school year."""

import datetime as dt

from ninja import Field, Schema

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
