"""The campus catalogue: campuses, institutions, buildings and equipment."""

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate

from api.pagination import KampusPagination
from api.schemas import READ_ERRORS, BuildingFilter, BuildingOut, CampusOut, EquipmentOut, InstitutionOut
from campus import selectors
from campus.models import Building, Campus, Equipment, Institution

router = Router(tags=["campus"])


@router.get("/campuses", response={200: list[CampusOut], **READ_ERRORS})
@paginate(KampusPagination)
def list_campuses(request: HttpRequest) -> QuerySet[Campus]:
    """List the campuses with their time zones."""
    return selectors.campus_list()


@router.get("/institutions", response={200: list[InstitutionOut], **READ_ERRORS})
@paginate(KampusPagination)
def list_institutions(request: HttpRequest) -> QuerySet[Institution]:
    """List the institutions sharing the campuses."""
    return selectors.institution_list()


@router.get("/buildings", response={200: list[BuildingOut], **READ_ERRORS})
@paginate(KampusPagination)
def list_buildings(request: HttpRequest, filters: Query[BuildingFilter]) -> QuerySet[Building]:
    """List buildings, of one campus when ``campus`` (an id) is given."""
    return filters.filter(selectors.building_list())


@router.get("/equipment", response={200: list[EquipmentOut], **READ_ERRORS})
@paginate(KampusPagination)
def list_equipment(request: HttpRequest) -> QuerySet[Equipment]:
    """List the equipment catalogue; its codes filter ``GET /rooms``."""
    return selectors.equipment_list()
