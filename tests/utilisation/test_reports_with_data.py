"""The report service on rolled-up data: a job gives the direct computation; new data replaces the cached report."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache

from tests.utilisation.conftest import DAY, EVENING, at, read
from utilisation import metrics, reports
from utilisation.models import ReportJob, ReportJobStatus
from utilisation.results import Period, Season
from utilisation.rollups import rollup_pending

# 2026-06-01 to 2026-11-30: 183 days, over the 120-day limit, around the counted Tuesday.
LONG = Period(first_day=dt.date(2026, 6, 1), last_day=dt.date(2026, 11, 30), season=Season.ALL)
ONE_DAY = Period(first_day=DAY, last_day=DAY, season=Season.ALL)
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def counted_morning(joint_campus, counter):
    """The classroom's counter: 10 people 09:00–09:30, nobody 08:00–09:00 and 09:30–10:00; rolled up."""
    for minute in range(0, 120, 5):
        moment = at(8) + dt.timedelta(minutes=minute)
        read(counter, moment, 10 if at(9) <= moment < at(9, 30) else 0)
    rollup_pending(now=EVENING)
    return joint_campus


def test_a_long_jobs_result_equals_the_direct_computation(
    counted_morning, campus_fm, sync_jobs, django_capture_on_commit_callbacks
):
    campus = counted_morning.campus
    with django_capture_on_commit_callbacks(execute=True):
        pending = reports.report_or_job(user=campus_fm, campus=campus, period=LONG, now=NOW)

    assert isinstance(pending, reports.PendingReport)
    job = ReportJob.objects.get(pk=pending.job_id)
    assert (job.status, job.progress) == (ReportJobStatus.DONE, 100)
    direct = metrics.utilisation_report(campus=campus, period=LONG, now=NOW)
    assert reports.job_report(job) == direct
    assert reports.job_heatmap(job) == metrics.heatmap(campus=campus, period=LONG, now=NOW)
    # The two 09:00 slots of the classroom were in use: the job did see the data.
    assert direct.totals.in_use_slots == 2
    # Asked again, the done job answers with the same report.
    assert reports.report_or_job(user=campus_fm, campus=campus, period=LONG, now=NOW) == direct


def test_new_rolled_up_data_replaces_the_cached_report(counted_morning, campus_fm, counter):
    campus = counted_morning.campus
    before = reports.report_or_job(user=campus_fm, campus=campus, period=ONE_DAY, now=NOW)
    assert before.totals.in_use_slots == 2

    # Late readings, received in the evening: people at 10:00–10:30 too. The rollup raises the data version.
    late = EVENING + dt.timedelta(minutes=30)
    for minute in range(0, 35, 5):
        read(counter, at(10) + dt.timedelta(minutes=minute), 8 if minute < 30 else 0, received_at=late)
    rollup_pending(now=EVENING + dt.timedelta(hours=1))

    after = reports.report_or_job(user=campus_fm, campus=campus, period=ONE_DAY, now=NOW)
    assert after.data_version > before.data_version
    assert after.totals.in_use_slots == 4
