"""Term calendars: the terms and breaks a teaching series follows."""

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status
from ninja.pagination import paginate

from api.pagination import KampusPagination
from api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut
from api.term_schemas import TermFilter, TermIn, TermOut
from campus import selectors, services
from campus.models import Campus, Institution, TermPeriod

router = Router(tags=["terms"])


@router.get("/terms", response={200: list[TermOut], **READ_ERRORS})
@paginate(KampusPagination)
def list_terms(request: HttpRequest, filters: Query[TermFilter]) -> QuerySet[TermPeriod]:
    """List terms and breaks (dates included), of one institution's or the campus's calendar when given."""
    return filters.filter(selectors.term_period_list())


@router.post("/terms", response={201: TermOut, 404: ErrorOut, **WRITE_ERRORS})
def create_term(request: HttpRequest, payload: TermIn) -> Status:
    """Add a term or a break: an institution's admins and facility managers to its calendar, the campus's
    facility managers to the campus's."""
    institution = get_object_or_404(Institution, pk=payload.institution) if payload.institution else None
    campus = get_object_or_404(Campus, pk=payload.campus) if payload.campus else None
    period = services.term_period_create(
        actor=request.auth,
        institution=institution,
        campus=campus,
        kind=payload.kind,
        name=payload.name,
        start=payload.start,
        end=payload.end,
    )
    return Status(201, period)
