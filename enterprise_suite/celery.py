"""The Celery application shared by the worker, beat and the web process.

Tasks are enqueued after the surrounding transaction commits (`task.delay_on_commit`), so a
worker never sees an id whose row is not yet visible.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "enterprise_suite.settings")

app = Celery("enterprise_suite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
