"""WSGI entry point for gunicorn in the throughput benchmark."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.load.settings")
application = get_wsgi_application()
