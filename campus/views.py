"""Campus pages: thin views over selectors."""

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from campus.models import Campus


def home(request: HttpRequest) -> HttpResponse:
    """Render the front page: the campus, its buildings and room counts, and where to go next."""
    campuses = Campus.objects.prefetch_related("institutions").order_by("name")
    buildings_by_campus = {
        campus.pk: campus.buildings.annotate(room_count=Count("rooms")).order_by("code") for campus in campuses
    }
    return render(
        request,
        "campus/home.html",
        {"campuses": [(campus, buildings_by_campus[campus.pk]) for campus in campuses]},
    )
