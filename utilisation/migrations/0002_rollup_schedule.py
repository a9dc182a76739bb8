"""The django-q2 schedule that rolls up new readings and changed bookings every 5 minutes."""

from django.db import migrations

NAME = "Roll up readings and bookings into room slots"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={"func": "utilisation.tasks.rollup_readings", "schedule_type": "I", "minutes": 5, "repeats": -1},
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("utilisation", "0001_slots_and_booking_use"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
