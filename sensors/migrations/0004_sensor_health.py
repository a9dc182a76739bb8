"""Sensor health: offline notices, and the django-q2 schedule that marks silent sensors offline every 5 minutes."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

NAME = "Mark silent sensors offline and tell their facility managers"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={"func": "sensors.tasks.check_sensor_health", "schedule_type": "I", "minutes": 5, "repeats": -1},
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sensors", "0003_retention_schedule"),
        ("django_q", "0018_task_success_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="OfflineNotice",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent at")),
                ("claimed_at", models.DateTimeField(blank=True, null=True)),
                ("language", models.CharField(blank=True, max_length=8, verbose_name="language")),
                ("subject", models.CharField(blank=True, max_length=300, verbose_name="subject")),
                (
                    "recipient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recipient",
                    ),
                ),
                (
                    "sensors",
                    models.ManyToManyField(related_name="offline_notices", to="sensors.sensor", verbose_name="sensors"),
                ),
            ],
            options={
                "verbose_name": "offline notice",
                "verbose_name_plural": "offline notices",
                "ordering": ["-created_at"],
            },
        ),
        migrations.RunPython(create_schedule, delete_schedule),
    ]
