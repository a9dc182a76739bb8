"""WSGI entry point for Kampus (gunicorn campus.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campus.settings")
application = get_wsgi_application()

# The garbage collector's full passes scanned every object the process had loaded (Django, the
# URLconf, the API's schemas: about 150,000), 90 ms each, every 30 or so room searches: the slowest
# twentieth of the searches (docs/performance.md, "Room search"). Load the views now, then move all
# of it out of the collector's sight and let the youngest generation grow tenfold before a pass,
# so that a full pass is rare and scans only what requests left behind.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - imports every view and API schema
gc.collect()
gc.freeze()
gc.set_threshold(7000, 10, 10)
