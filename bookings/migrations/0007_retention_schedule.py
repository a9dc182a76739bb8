"""Run the retention purge every night (django-q2 schedule)."""

from django.db import migrations

NAME = "Delete data past its retention period"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME, defaults={"func": "bookings.tasks.purge_expired_data", "schedule_type": "D", "repeats": -1}
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("bookings", "0006_audit_log_retention_purge")]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
