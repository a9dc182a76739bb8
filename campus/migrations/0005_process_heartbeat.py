"""Heartbeats of the background processes, and the django-q2 schedule that makes the worker beat every minute."""

from django.db import migrations, models

NAME = "Worker heartbeat"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={"func": "campus.tasks.worker_heartbeat", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('campus', '0004_term_calendar'),
        ('django_q', '0018_task_success_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='Heartbeat',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=160, unique=True, verbose_name='name')),
                ('kind', models.CharField(choices=[('worker', 'Background worker'), ('ingester', 'Sensor ingester')], max_length=16, verbose_name='kind')),
                ('beat_at', models.DateTimeField(verbose_name='last beat')),
                ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='started at')),
                ('state', models.JSONField(blank=True, default=dict, verbose_name='state')),
            ],
            options={
                'verbose_name': 'heartbeat',
                'verbose_name_plural': 'heartbeats',
                'ordering': ['kind', 'name'],
            },
        ),
        migrations.RunPython(create_schedule, delete_schedule),
    ]
