"""Utilisation reports for every entry point (API, CSV, dashboard): access, caching and background jobs.

``report_or_job`` and ``heatmap_or_job`` check access, then answer from the cache, compute a short
period at once, or run a long one as a django-q2 job (``ReportJob``) and answer its progress.

Caching: a result is keyed by its parameters and the rollup's data version
(``RollupState.version`` of the row "default"), which rises whenever new data changes a slot, so
new data invalidates every cached report without anyone deleting it. Short reports go into
Django's cache (``CACHES``; without a shared backend each web process keeps its own); long ones
live in their done ``ReportJob`` row, which every process shares.

Results are stored as JSON in one form (``report_to_json`` / ``report_from_json``): dataclasses as
objects, dates and times as ISO 8601 text, enums as their values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
import logging
import types
import typing
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from campus.exceptions import NotFound
from campus.models import Building, Campus, Institution, Room, User
from utilisation import metrics
from utilisation.models import ReportJob, ReportJobStatus, RollupState
from utilisation.permissions import require_report_access
from utilisation.results import Heatmap, Period, Season, UtilisationReport

logger = logging.getLogger(__name__)

# The longest period a report covers (two years, leap days included).
MAX_REPORT_DAYS = 2 * 366
# Cached results of periods that reach today change as the day goes on (slots leave the future).
CACHE_SECONDS_CURRENT = 5 * 60
CACHE_SECONDS_PAST = 24 * 3600
# A queued or running job older than this is taken for lost (a worker that died) and started again.
JOB_ABANDONED_AFTER = dt.timedelta(hours=1)
# A failed job is answered (status "failed") for this long before the same request tries again, so
# that a page polling for its progress does not start a new failing job every few seconds.
FAILED_JOB_ANSWERED_FOR = dt.timedelta(minutes=5)
# Jobs are deleted this long after they were created (when a new one starts): their URLs then 404.
JOBS_KEPT_FOR = dt.timedelta(days=7)
# What a job has done once the report, and then its heatmap, are computed (percent).
PROGRESS_STARTED = 5
PROGRESS_REPORT_DONE = 70

T = TypeVar("T")


@dataclass(frozen=True)
class PendingReport:
    """A report being computed in the background: its job, how far it has got (percent) and its status.

    ``status`` is queued or running; failed when the job failed in the last few minutes (asking
    again later starts a new one).
    """

    job_id: uuid.UUID
    progress: int  # 0–100
    status: ReportJobStatus


@dataclass(frozen=True)
class ReportSelection:
    """What a report covers: a campus and at most one of a building, an institution (its bookings) or a room."""

    campus: Campus
    period: Period
    building: Building | None = None
    institution: Institution | None = None
    room: Room | None = None
    now: dt.datetime | None = None

    def params(self) -> dict[str, Any]:
        """Return the canonical JSON parameters: the cache's and the job's key."""
        return {
            "campus": self.campus.pk,
            "building": self.building.pk if self.building else None,
            "institution": self.institution.pk if self.institution else None,
            "room": self.room.pk if self.room else None,
            "first_day": self.period.first_day.isoformat(),
            "last_day": self.period.last_day.isoformat(),
            "season": self.period.season.value,
            "now": self.now.isoformat() if self.now else None,
        }

    def places(self) -> dict[str, Any]:
        return {"building": self.building, "institution": self.institution, "room": self.room}


# --- JSON: the one form results are stored and cached in ---------------------------------------------


def _to_json(value: Any) -> Any:
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(item) for item in value]
    return value


def _from_json(kind: Any, value: Any) -> Any:
    """Return ``value`` (JSON) as the type ``kind``: dataclasses, lists, optionals, dates, enums, numbers."""
    if value is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [option for option in typing.get_args(kind) if option is not type(None)]
        return _from_json(options[0], value)  # the results' unions are all "X | None"
    if origin is list:
        (item_kind,) = typing.get_args(kind)
        return [_from_json(item_kind, item) for item in value]
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(
            **{
                field.name: _from_json(hints[field.name], value[field.name])
                for field in dataclasses.fields(kind)
                if field.name in value
            }
        )
    if kind is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if kind is dt.date:
        return dt.date.fromisoformat(value)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(value)
    if kind is float:
        return float(value)
    return value


def result_to_json(result: UtilisationReport | Heatmap) -> dict[str, Any]:
    """Return a report or heatmap as JSON-ready values (``dataclasses.asdict``, dates as ISO 8601 text)."""
    return _to_json(dataclasses.asdict(result))


def report_to_json(report: UtilisationReport) -> dict[str, Any]:
    return result_to_json(report)


def report_from_json(value: dict[str, Any]) -> UtilisationReport:
    return _from_json(UtilisationReport, value)


def heatmap_to_json(heatmap: Heatmap) -> dict[str, Any]:
    return result_to_json(heatmap)


def heatmap_from_json(value: dict[str, Any]) -> Heatmap:
    return _from_json(Heatmap, value)


# --- Keys, versions, thresholds ------------------------------------------------------------------------


def params_key(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


def _cache_key(kind: str, key: str, version: int) -> str:
    return f"kampus:utilisation:{kind}:{key}:v{version}"


def _cache_seconds(selection: ReportSelection) -> int:
    today = timezone.localdate(selection.now or timezone.now(), timezone=selection.campus.zone)
    return CACHE_SECONDS_CURRENT if selection.period.last_day >= today else CACHE_SECONDS_PAST


def runs_in_background(period: Period) -> bool:
    """Tell whether a report of ``period`` is computed by a background job (KAMPUS_REPORT_SYNC_MAX_DAYS)."""
    days = (period.last_day - period.first_day).days + 1
    return days > settings.KAMPUS_REPORT_SYNC_MAX_DAYS


# --- The services ------------------------------------------------------------------------------------


def report_or_job(
    *,
    user: User,
    campus: Campus,
    period: Period,
    building: Building | None = None,
    institution: Institution | None = None,
    room: Room | None = None,
    now: dt.datetime | None = None,
) -> UtilisationReport | PendingReport:
    """Return the utilisation report ``user`` asks for, or the pending job computing it.

    Raises ``PermissionDenied`` (``require_report_access``) when ``user`` may not see it. At most
    one of ``building``, ``institution``, ``room`` is given, each of ``campus``.
    """
    require_report_access(user, campus=campus, building=building, institution=institution, room=room)
    selection = ReportSelection(
        campus=campus, period=period, building=building, institution=institution, room=room, now=now
    )
    found = _result_or_job(user=user, selection=selection, kind="report")
    return found if isinstance(found, PendingReport) else report_from_json(found)


def heatmap_or_job(
    *,
    user: User,
    campus: Campus,
    period: Period,
    building: Building | None = None,
    institution: Institution | None = None,
    room: Room | None = None,
    now: dt.datetime | None = None,
) -> Heatmap | PendingReport:
    """Return the hour-of-week heatmap ``user`` asks for, or the pending job computing it (with its report)."""
    require_report_access(user, campus=campus, building=building, institution=institution, room=room)
    selection = ReportSelection(
        campus=campus, period=period, building=building, institution=institution, room=room, now=now
    )
    found = _result_or_job(user=user, selection=selection, kind="heatmap")
    return found if isinstance(found, PendingReport) else heatmap_from_json(found)


def _compute(kind: str, selection: ReportSelection) -> dict[str, Any]:
    arguments = {"campus": selection.campus, "period": selection.period, "now": selection.now, **selection.places()}
    if kind == "report":
        return report_to_json(metrics.utilisation_report(**arguments))
    return heatmap_to_json(metrics.heatmap(**arguments))


def _result_or_job(*, user: User, selection: ReportSelection, kind: str) -> dict[str, Any] | PendingReport:
    """Return the JSON of ``kind`` ("report" or "heatmap") for ``selection``: cached, computed, or a job's."""
    version = RollupState.current_version()
    key = params_key(selection.params())
    cache_key = _cache_key(kind, key, version)
    cached = cache.get(cache_key)
    if cached is not None:
        return cached
    if not runs_in_background(selection.period):
        result = _compute(kind, selection)
        cache.set(cache_key, result, _cache_seconds(selection))
        return result
    job = _reusable_job(key=key, version=version)
    if job is None:
        job = _start_job(user=user, selection=selection, key=key, version=version)
    if job.status == ReportJobStatus.DONE:
        return job.result[kind]
    return PendingReport(job_id=job.pk, progress=job.progress, status=ReportJobStatus(job.status))


def _reusable_job(*, key: str, version: int) -> ReportJob | None:
    """Return the done job of these parameters and data version, else one still running or just failed, else None."""
    jobs = ReportJob.objects.filter(params_key=key, data_version=version)
    done = jobs.filter(status=ReportJobStatus.DONE).order_by("-finished_at").first()
    if done is not None:
        return done
    now = timezone.now()
    alive = Q(status__in=[ReportJobStatus.QUEUED, ReportJobStatus.RUNNING], created_at__gte=now - JOB_ABANDONED_AFTER)
    just_failed = Q(status=ReportJobStatus.FAILED, finished_at__gte=now - FAILED_JOB_ANSWERED_FOR)
    return jobs.filter(alive | just_failed).order_by("-created_at").first()


def _start_job(*, user: User, selection: ReportSelection, key: str, version: int) -> ReportJob:
    ReportJob.objects.filter(created_at__lt=timezone.now() - JOBS_KEPT_FOR).delete()
    job = ReportJob.objects.create(
        requested_by=user, campus=selection.campus, params=selection.params(), params_key=key, data_version=version
    )
    job_id = str(job.pk)
    # The worker reads the row, so the task goes out once it is committed. A queue that cannot be reached
    # (Redis down) is logged, not raised: the job is then abandoned after JOB_ABANDONED_AFTER and asked again.
    transaction.on_commit(
        lambda: async_task("utilisation.reports.run_report_job", job_id, task_name=f"report-{job_id}"), robust=True
    )
    return job


def selection_of_job(job: ReportJob) -> ReportSelection:
    """Return what ``job`` reports on; NotFound when its campus, building, institution or room is gone."""
    params = job.params

    def row(model: type[T], name: str) -> T | None:
        if params.get(name) is None:
            return None
        found = model.objects.filter(pk=params[name]).first()  # type: ignore[attr-defined]
        if found is None:
            raise NotFound(_("What this report covered no longer exists."))
        return found

    campus = row(Campus, "campus")
    assert campus is not None
    return ReportSelection(
        campus=campus,
        period=Period(
            first_day=dt.date.fromisoformat(params["first_day"]),
            last_day=dt.date.fromisoformat(params["last_day"]),
            season=Season(params["season"]),
        ),
        building=row(Building, "building"),
        institution=row(Institution, "institution"),
        room=row(Room, "room"),
        now=dt.datetime.fromisoformat(params["now"]) if params.get("now") else None,
    )


def report_job_for(*, user: User, job_id: uuid.UUID) -> ReportJob:
    """Return the report job ``job_id`` for ``user``, who must (still) be allowed to see the same report.

    Raises ``NotFound`` for an unknown job, ``PermissionDenied`` for anyone else.
    """
    job = ReportJob.objects.select_related("campus").filter(pk=job_id).first()
    if job is None:
        raise NotFound(_("There is no report job with this id."))
    # The requester too: a membership that has ended since ends their access to the result.
    selection = selection_of_job(job)
    require_report_access(user, campus=selection.campus, **selection.places())
    return job


def job_report(job: ReportJob) -> UtilisationReport | None:
    """Return the report of a done job, else None."""
    return report_from_json(job.result["report"]) if job.status == ReportJobStatus.DONE and job.result else None


def job_heatmap(job: ReportJob) -> Heatmap | None:
    """Return the heatmap of a done job, else None."""
    return heatmap_from_json(job.result["heatmap"]) if job.status == ReportJobStatus.DONE and job.result else None


# --- The background job --------------------------------------------------------------------------------


def _record_progress(job: ReportJob, percent: int, **changes: Any) -> None:
    ReportJob.objects.filter(pk=job.pk).update(progress=percent, **changes)


def run_report_job(job_id: str) -> None:
    """Compute a queued report job's report and heatmap (the django-q2 task); store them, or the error.

    A job already done is left alone, so a redelivered task does no work twice.
    """
    job = ReportJob.objects.filter(pk=job_id).first()
    if job is None or job.status == ReportJobStatus.DONE:
        return
    _record_progress(job, PROGRESS_STARTED, status=ReportJobStatus.RUNNING)
    try:
        selection = selection_of_job(job)
        report = _compute("report", selection)
        _record_progress(job, PROGRESS_REPORT_DONE)
        heatmap = _compute("heatmap", selection)
    except Exception as error:
        logger.exception("Report job %s failed", job_id)
        ReportJob.objects.filter(pk=job.pk).update(
            status=ReportJobStatus.FAILED, error=str(error) or type(error).__name__, finished_at=timezone.now()
        )
        return
    ReportJob.objects.filter(pk=job.pk).update(
        status=ReportJobStatus.DONE,
        progress=100,
        result={"report": report, "heatmap": heatmap},
        error="",
        finished_at=timezone.now(),
    )
