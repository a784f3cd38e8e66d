"""The peer's WSGI application, for gunicorn."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.par.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
