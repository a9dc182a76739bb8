"""The report service: access, JSON form, the cache and its invalidation, and long reports as background jobs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid

import pytest
from django.utils import timezone

from campus.exceptions import NotFound, PermissionDenied
from tests.utilisation.report_examples import sample_heatmap, sample_report
from utilisation import metrics, reports
from utilisation.models import ReportJob, ReportJobStatus, RollupState
from utilisation.results import Period, Season

SHORT = Period(first_day=dt.date(2026, 9, 1), last_day=dt.date(2026, 9, 30), season=Season.TERM)  # 30 days
LONG = Period(first_day=dt.date(2026, 1, 1), last_day=dt.date(2026, 9, 30), season=Season.ALL)  # 273 days
NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def raise_version(to: int) -> None:
    RollupState.objects.update_or_create(name="default", defaults={"version": to})


# --- JSON -----------------------------------------------------------------------------------------


def test_a_report_survives_json_unchanged():
    report = sample_report()

    text = json.dumps(reports.report_to_json(report))

    assert reports.report_from_json(json.loads(text)) == report


def test_dates_and_times_are_iso_text_and_ratings_their_names():
    stored = reports.report_to_json(sample_report())

    assert stored["period"] == {"first_day": "2026-09-01", "last_day": "2026-09-30", "season": "term"}
    assert stored["generated_at"] == "2026-10-01T06:30:00+00:00"
    assert stored["totals"]["rating"] == "poor"
    assert stored["concurrency"][0]["peak_at"] == "2026-09-03T07:15:00+00:00"


def test_a_heatmap_survives_json_unchanged():
    heatmap = sample_heatmap()

    assert reports.heatmap_from_json(json.loads(json.dumps(reports.heatmap_to_json(heatmap)))) == heatmap


# --- Access ---------------------------------------------------------------------------------------


def test_a_teacher_is_refused_before_anything_is_computed(joint_campus, lukio_staff, fake_metrics):
    with pytest.raises(PermissionDenied):
        reports.report_or_job(user=lukio_staff, campus=joint_campus.campus, period=SHORT)

    assert fake_metrics.reports == 0


def test_an_institution_admin_is_refused_another_institutions_report(joint_campus, lukio_admin, fake_metrics):
    with pytest.raises(PermissionDenied):
        reports.report_or_job(
            user=lukio_admin, campus=joint_campus.campus, period=SHORT, institution=joint_campus.vocational
        )

    report = reports.report_or_job(
        user=lukio_admin, campus=joint_campus.campus, period=SHORT, institution=joint_campus.lukio
    )
    assert report.campus_id == joint_campus.campus.pk


# --- Short periods and the cache ------------------------------------------------------------------


def test_a_short_period_is_computed_at_once(joint_campus, campus_fm, fake_metrics):
    report = reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=SHORT, now=NOW)

    assert report == dataclasses.replace(sample_report(campus_id=joint_campus.campus.pk), period=SHORT)
    assert ReportJob.objects.count() == 0


def test_a_second_request_is_answered_from_the_cache(joint_campus, campus_fm, fake_metrics):
    first = reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=SHORT, now=NOW)
    second = reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=SHORT, now=NOW)

    assert fake_metrics.reports == 1
    assert second == first


def test_other_parameters_are_not_served_from_the_cache(joint_campus, campus_fm, fake_metrics):
    reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=SHORT, now=NOW)
    reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=SHORT, now=NOW, room=joint_campus.lab)
    reports.report_or_job(
        user=campus_fm, campus=joint_campus.campus, period=dataclasses.replace(SHORT, season=Season.ALL), now=NOW
    )

    assert fake_metrics.reports == 3


def test_new_data_invalidates_the_cached_report(joint_campus, campus_fm, fake_metrics):
    raise_version(4)
    reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=SHORT, now=NOW)
    raise_version(5)
    reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=SHORT, now=NOW)
    reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=SHORT, now=NOW)

    assert fake_metrics.reports == 2


def test_report_and_heatmap_are_cached_apart(joint_campus, campus_fm, fake_metrics):
    reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=SHORT, now=NOW)
    heatmap = reports.heatmap_or_job(user=campus_fm, campus=joint_campus.campus, period=SHORT, now=NOW)
    reports.heatmap_or_job(user=campus_fm, campus=joint_campus.campus, period=SHORT, now=NOW)

    assert heatmap == dataclasses.replace(sample_heatmap(), period=SHORT)
    assert (fake_metrics.reports, fake_metrics.heatmaps) == (1, 1)


# --- Long periods: background jobs ----------------------------------------------------------------


def start_long_job(user, campus, django_capture_on_commit_callbacks, **places):
    with django_capture_on_commit_callbacks(execute=True):
        pending = reports.report_or_job(user=user, campus=campus, period=LONG, now=NOW, **places)
    return pending


def test_a_long_period_runs_as_a_job_whose_progress_reaches_100(
    joint_campus, campus_fm, fake_metrics, sync_jobs, django_capture_on_commit_callbacks
):
    pending = start_long_job(campus_fm, joint_campus.campus, django_capture_on_commit_callbacks)

    assert isinstance(pending, reports.PendingReport)
    assert (pending.progress, pending.status) == (0, ReportJobStatus.QUEUED)
    job = ReportJob.objects.get(pk=pending.job_id)
    assert (job.status, job.progress, job.requested_by, job.error) == (ReportJobStatus.DONE, 100, campus_fm, "")
    assert job.finished_at is not None
    # The job said how far it had got while computing: started, then the report done, then finished.
    assert fake_metrics.progress_seen == [reports.PROGRESS_STARTED, reports.PROGRESS_REPORT_DONE]


def test_the_jobs_result_equals_the_direct_computation(
    joint_campus, campus_fm, fake_metrics, sync_jobs, django_capture_on_commit_callbacks
):
    pending = start_long_job(campus_fm, joint_campus.campus, django_capture_on_commit_callbacks)
    job = ReportJob.objects.get(pk=pending.job_id)

    direct = metrics.utilisation_report(campus=joint_campus.campus, period=LONG, now=NOW)
    assert reports.job_report(job) == direct
    assert reports.job_heatmap(job) == metrics.heatmap(campus=joint_campus.campus, period=LONG, now=NOW)


def test_a_done_job_is_reused_for_the_same_parameters_and_version(
    joint_campus, campus_fm, fake_metrics, sync_jobs, django_capture_on_commit_callbacks
):
    start_long_job(campus_fm, joint_campus.campus, django_capture_on_commit_callbacks)

    again = reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=LONG, now=NOW)
    heatmap = reports.heatmap_or_job(user=campus_fm, campus=joint_campus.campus, period=LONG, now=NOW)

    assert again == dataclasses.replace(sample_report(campus_id=joint_campus.campus.pk), period=LONG)
    assert heatmap == dataclasses.replace(sample_heatmap(), period=LONG)
    assert ReportJob.objects.count() == 1
    assert (fake_metrics.reports, fake_metrics.heatmaps) == (1, 1)


def test_a_queued_job_is_not_started_twice(joint_campus, campus_fm, fake_metrics):
    first = reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=LONG, now=NOW)
    second = reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=LONG, now=NOW)

    assert second == first
    assert ReportJob.objects.count() == 1


def test_new_data_starts_a_new_job(
    joint_campus, campus_fm, fake_metrics, sync_jobs, django_capture_on_commit_callbacks
):
    start_long_job(campus_fm, joint_campus.campus, django_capture_on_commit_callbacks)
    raise_version(9)

    pending = start_long_job(campus_fm, joint_campus.campus, django_capture_on_commit_callbacks)

    assert isinstance(pending, reports.PendingReport)
    assert ReportJob.objects.get(pk=pending.job_id).data_version == 9
    assert ReportJob.objects.count() == 2


def test_a_failing_computation_fails_the_job_with_its_error(
    joint_campus, campus_fm, monkeypatch, sync_jobs, django_capture_on_commit_callbacks
):
    def broken(**arguments):
        raise RuntimeError("the slots are unreadable")

    monkeypatch.setattr(metrics, "utilisation_report", broken)

    pending = start_long_job(campus_fm, joint_campus.campus, django_capture_on_commit_callbacks)

    job = ReportJob.objects.get(pk=pending.job_id)
    assert (job.status, job.error, job.result) == (ReportJobStatus.FAILED, "the slots are unreadable", None)
    assert reports.job_report(job) is None


def test_a_just_failed_job_is_answered_before_a_new_one_starts(
    joint_campus, campus_fm, monkeypatch, sync_jobs, django_capture_on_commit_callbacks
):
    def broken(**arguments):
        raise RuntimeError("the slots are unreadable")

    monkeypatch.setattr(metrics, "utilisation_report", broken)
    failed = start_long_job(campus_fm, joint_campus.campus, django_capture_on_commit_callbacks)

    again = reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=LONG, now=NOW)

    assert (again.job_id, again.status) == (failed.job_id, ReportJobStatus.FAILED)
    # Minutes later the same request tries again.
    ReportJob.objects.filter(pk=failed.job_id).update(
        finished_at=timezone.now() - reports.FAILED_JOB_ANSWERED_FOR - dt.timedelta(seconds=1)
    )
    retried = reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=LONG, now=NOW)
    assert retried.job_id != failed.job_id
    assert retried.status == ReportJobStatus.QUEUED


def test_an_abandoned_job_is_started_again(joint_campus, campus_fm, fake_metrics):
    lost = reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=LONG, now=NOW)
    ReportJob.objects.filter(pk=lost.job_id).update(
        status=ReportJobStatus.RUNNING,
        created_at=timezone.now() - reports.JOB_ABANDONED_AFTER - dt.timedelta(minutes=1),
    )

    again = reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=LONG, now=NOW)

    assert again.job_id != lost.job_id


def test_jobs_older_than_a_week_are_deleted_when_a_new_one_starts(joint_campus, campus_fm, fake_metrics):
    old = reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=LONG, now=NOW)
    ReportJob.objects.filter(pk=old.job_id).update(created_at=timezone.now() - dt.timedelta(days=8))

    reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=LONG, now=NOW, room=joint_campus.lab)

    assert not ReportJob.objects.filter(pk=old.job_id).exists()
    assert ReportJob.objects.count() == 1


def test_a_job_whose_room_is_gone_fails(joint_campus, campus_fm, fake_metrics, sync_jobs):
    job = ReportJob.objects.create(
        campus=joint_campus.campus,
        params={**reports.ReportSelection(campus=joint_campus.campus, period=LONG).params(), "room": 999999},
        params_key="x",
        data_version=0,
    )

    reports.run_report_job(str(job.pk))

    job.refresh_from_db()
    assert job.status == ReportJobStatus.FAILED
    assert fake_metrics.reports == 0


# --- Who may read a job ---------------------------------------------------------------------------


def test_a_job_is_for_its_requester_and_whoever_may_see_the_same(
    joint_campus, campus_fm, superuser, lukio_staff, fake_metrics
):
    pending = reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=LONG, now=NOW)

    assert reports.report_job_for(user=campus_fm, job_id=pending.job_id).pk == pending.job_id
    assert reports.report_job_for(user=superuser, job_id=pending.job_id).pk == pending.job_id
    with pytest.raises(PermissionDenied):
        reports.report_job_for(user=lukio_staff, job_id=pending.job_id)


def test_a_requester_whose_membership_ended_may_no_longer_read_the_job(joint_campus, campus_fm, fake_metrics):
    from campus.models import Membership

    pending = reports.report_or_job(user=campus_fm, campus=joint_campus.campus, period=LONG, now=NOW)
    Membership.objects.filter(user=campus_fm).update(valid_until=dt.date.today() - dt.timedelta(days=1))

    with pytest.raises(PermissionDenied):
        reports.report_job_for(user=campus_fm, job_id=pending.job_id)


def test_an_unknown_job_is_not_found(db, campus_fm):
    with pytest.raises(NotFound):
        reports.report_job_for(user=campus_fm, job_id=uuid.uuid4())
