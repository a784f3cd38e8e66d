"""Django settings of the peer: only what the two endpoints need (no auth, no sessions, no admin)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

SECRET_KEY = "bench-only-peer"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.par.urls"
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["rest_framework", "bench.par"]
MIDDLEWARE: list[str] = []
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
}


def _base(url: str) -> dict:
    """Django's DATABASES entry for one of our URLs (sqlite:////abs/file.db, postgresql+psycopg://…)."""
    partes = urlsplit(url)
    persistente = {"CONN_MAX_AGE": None, "CONN_HEALTH_CHECKS": False}  # one connection per worker, kept
    if partes.scheme.startswith("sqlite"):
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": url.split(":///", 1)[1], **persistente}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": partes.path.lstrip("/"),
        "USER": partes.username or "",
        "PASSWORD": partes.password or "",
        "HOST": partes.hostname or "",
        "PORT": str(partes.port or ""),
        **persistente,
    }


DATABASES = {"default": _base(os.environ["PAR_DATABASE_URL"])}
