"""WSGI entry point (management tooling only; the web role serves ASGI through daphne)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "enterprise_suite.settings")
application = get_wsgi_application()
