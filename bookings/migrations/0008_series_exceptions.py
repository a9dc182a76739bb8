"""Series remember their exceptions: each occurrence's original start, the first end, exdates as moments."""

import datetime as dt
import zoneinfo

from django.db import migrations, models

ACTIVE = ("pending", "confirmed")


def describe_existing_series(apps, schema_editor):
    """Give each occurrence its original start, and its series its first end and its exdates.

    An occurrence at one of the rule's starts takes it; the others (moved on their own before
    series remembered that) are paired in order with the starts left over. A rule that no longer
    parses keeps its old exceptions (the series still works; its calendar view is not exact).
    """
    from bookings import recurrence

    Booking = apps.get_model("bookings", "Booking")
    BookingSeries = apps.get_model("bookings", "BookingSeries")
    for series in BookingSeries.objects.all():
        zone = zoneinfo.ZoneInfo(series.time_zone)
        occurrences = list(Booking.objects.filter(series=series).order_by("start"))
        first = occurrences[0] if occurrences else None
        length = recurrence.wall_duration(first.start, first.end, zone) if first else dt.timedelta(hours=1)
        series.dtend = recurrence.add_wall_time(series.dtstart, length, zone)
        try:
            instances = recurrence.series_instances(rule=series.rrule, dtstart=series.dtstart, zone=zone)
        except recurrence.InvalidRecurrence:
            instances = []
        free = [instance for instance in instances if instance not in {o.start for o in occurrences}]
        for occurrence in occurrences:
            if occurrence.start in instances:
                occurrence.recurrence_id = occurrence.start
            else:
                occurrence.recurrence_id = free.pop(0) if free else occurrence.start
            occurrence.save(update_fields=["recurrence_id"])
        if instances:
            active = {o.recurrence_id for o in occurrences if o.status in ACTIVE}
            series.exdates = [i.isoformat() for i in instances if i not in active]
        series.save(update_fields=["dtend", "exdates"])


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0007_retention_schedule"),
    ]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="recurrence_id",
            field=models.DateTimeField(blank=True, null=True, verbose_name="original start in its series"),
        ),
        migrations.AddField(
            model_name="bookingseries",
            name="dtend",
            field=models.DateTimeField(null=True, verbose_name="first end"),
        ),
        migrations.AddField(
            model_name="notification",
            name="claimed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="bookingseries",
            name="exdates",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Starts (ISO 8601, UTC) the rule gives but the series leaves out.",
                verbose_name="excluded starts",
            ),
        ),
        migrations.RunPython(describe_existing_series, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="bookingseries",
            name="dtend",
            field=models.DateTimeField(verbose_name="first end"),
        ),
        migrations.AddConstraint(
            model_name="booking",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("recurrence_id__isnull", True), ("series__isnull", True)),
                    models.Q(("recurrence_id__isnull", False), ("series__isnull", False)),
                    _connector="OR",
                ),
                name="booking_recurrence_id_iff_in_series",
            ),
        ),
    ]
