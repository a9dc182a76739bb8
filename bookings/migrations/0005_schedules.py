"""Scheduled jobs of the booking workflow (django-q2 schedules, run by `manage.py qcluster`)."""

from django.db import migrations

SCHEDULES = [
    # (name, function, minutes)
    ("Expire unanswered booking requests", "bookings.tasks.expire_requests", 5),
    ("Send booking e-mails whose task was lost", "bookings.tasks.send_unsent_notifications", 15),
]


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func, minutes in SCHEDULES:
        Schedule.objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": "I", "minutes": minutes, "repeats": -1}
        )


def delete_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[name for name, _func, _minutes in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0004_audit_log_append_only_postgresql"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create_schedules, delete_schedules)]
