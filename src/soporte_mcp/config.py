"""Configuration: one settings class read from ``SOPORTE_*`` environment variables."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from soporte_mcp.claves import comprobar_secreto, partes_del_hash
from soporte_mcp.errors import ConfiguracionInvalida

APP_NAME = "soporte-mcp"
PREFIJO_ENTORNO = "SOPORTE_"
# What a bearer credential may do: read for the queries, write for tickets and payments,
# metrics for /metrics (a Prometheus scraper's token needs only that one).
SCOPES = ("read", "write", "metrics")
# When the server asks the person to confirm a payment (MCP elicitation): see tools/_confirmacion.py.
POLITICAS_CONFIRMACION = ("auto", "siempre", "nunca")
# The databases we run on, with or without a driver (sqlite://, postgresql+psycopg://). Only the scheme is
# checked here: SQLAlchemy parses the rest when the database is opened (db/engine.py), and importing it just
# to read the settings would cost a stdio server's start what its handshake should not wait for (issue 13).
ESQUEMA_DE_URL = re.compile(r"(?:sqlite|postgresql)(?:\+\w+)?://")
# user:password@ in a URL, as SQLAlchemy reads it (the password runs up to the first "@").
CLAVE_EN_URL = re.compile(r"^([^:/?#]+://[^:/@]*):[^@]*@")


def default_database_url() -> str:
    """A SQLite file in the user's data directory.

    MCP hosts start the server from whatever working directory they like, so a
    relative path would give each host its own empty database.
    """
    import platformdirs  # only when the URL is not set: not on every start (issue 13)

    path = Path(platformdirs.user_data_dir(APP_NAME)) / "soporte.db"
    return f"sqlite:///{path}"


def url_segura(url: str) -> str:
    """``url`` with its password, if any, shown as ``***`` (for logs and ``info``)."""
    return CLAVE_EN_URL.sub(r"\1:***@", url, count=1)


def del_entorno(campos: dict[str, Any], entorno: dict[str, str] | None = None) -> dict[str, str]:
    """The ``SOPORTE_<CAMPO>`` variables of ``entorno`` (default: the process's) that name one of ``campos``,
    by field name; the variable's name is matched ignoring case, its value is passed as it is (text)."""
    prefijo = PREFIJO_ENTORNO.lower()
    valores = {}
    for clave, valor in (os.environ if entorno is None else entorno).items():
        nombre = clave.lower()
        if nombre.startswith(prefijo) and nombre[len(prefijo):] in campos:
            valores[nombre[len(prefijo):]] = valor
    return valores


class Settings(BaseModel):
    """Everything an operator can set, each also reachable as ``SOPORTE_<NAME>``.

    Keyword arguments win over the environment; what comes from it is text, validated like
    any field. A pydantic model that reads its variables itself (``del_entorno``) rather than
    a pydantic-settings class: importing that package (every source it supports: dotenv, AWS,
    Azure, GCP, TOML, YAML, argparse) was the largest piece left of a stdio cold start that
    the reference server does not pay, ≈50 M instructions or ~2 % (issue 13), and one
    environment lookup is all we used of it.
    """

    # validate_default: an unset database URL becomes the default file (``_default_url``), as pydantic-settings did.
    model_config = ConfigDict(extra="ignore", validate_default=True)

    def __init__(self, **valores: Any) -> None:
        super().__init__(**{**del_entorno(type(self).model_fields), **valores})

    database_url: str = ""
    timezone: str = "America/Guayaquil"
    log_level: str = "WARNING"
    # HTTP only: bearer tokens (see soporte_mcp.auth); without it the HTTP server has no authentication.
    tokens_file: Path | None = None
    # OAuth 2.1 resource-server mode (JWT access tokens from an identity provider).
    oauth_issuer: str | None = None
    oauth_jwks_url: str | None = None
    # The public URL of the MCP endpoint (https://soporte.example/mcp): the tokens' audience.
    public_url: str | None = None
    # Requests a minute per token (per worker process, or shared with redis_url); None: 600 with tokens, off without.
    rate_limit: int | None = None
    # redis://host:6379/0: rate-limit buckets shared by every process and machine (see soporte_mcp.limites);
    # while it does not answer, "open" limits per process and "closed" answers 503.
    redis_url: str | None = None
    redis_failure_mode: Literal["open", "closed"] = "open"
    # "json": one JSON object per log line on stderr (see soporte_mcp.registro).
    log_format: Literal["text", "json"] = "text"
    # The /admin web panel (HTTP only): on when these three are set, from the environment only
    # (never options: a secret on the command line shows in `ps`). See `soporte-mcp admin hash-clave`.
    admin_user: str | None = None
    admin_password_hash: SecretStr | None = None
    admin_secret: SecretStr | None = None
    # auto: ask when the client can be asked; siempre: refuse clients that cannot; nunca: never ask.
    confirmar_pagos: Literal["auto", "siempre", "nunca"] = "auto"
    # Seals the 2026-07-28 requestState of a confirmation (AES-256-GCM, >= 32 bytes). Every worker of one
    # deployment must share it, or an answer that lands on another worker is refused; unset, each process
    # makes its own (fine for stdio and one worker; `serve --workers N` generates one for its workers).
    request_state_secret: SecretStr | None = None

    def limite_por_minuto(self) -> int:
        if self.rate_limit is not None:
            return self.rate_limit
        return 600 if self.tokens_file or self.oauth_issuer else 0

    def panel_admin(self) -> dict[str, str] | None:
        """The credentials ``montar_admin`` takes (usuario, clave_hash, secreto); None when the panel is off.

        Raises:
            ConfiguracionInvalida: only some of the SOPORTE_ADMIN_* variables are set, or they are unusable.
        """
        valores = (self.admin_user, self.admin_password_hash, self.admin_secret)
        if not any(valores):
            return None
        if not all(valores):
            raise ConfiguracionInvalida(
                "el panel /admin necesita las tres: SOPORTE_ADMIN_USER, SOPORTE_ADMIN_PASSWORD_HASH "
                "y SOPORTE_ADMIN_SECRET"
            )
        clave_hash = self.admin_password_hash.get_secret_value()
        secreto = self.admin_secret.get_secret_value()
        partes_del_hash(clave_hash)
        comprobar_secreto(secreto)
        return {"usuario": self.admin_user, "clave_hash": clave_hash, "secreto": secreto}

    @field_validator("request_state_secret")
    @classmethod
    def _secreto_largo(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("SOPORTE_REQUEST_STATE_SECRET necesita al menos 32 bytes aleatorios; genere uno con "
                             "python -c \"import secrets; print(secrets.token_hex(32))\"")
        return value

    @field_validator("database_url")
    @classmethod
    def _default_url(cls, value: str) -> str:
        url = value.strip() or default_database_url()
        if not ESQUEMA_DE_URL.match(url):
            raise ValueError(f"SOPORTE_DATABASE_URL no es válida ({url_segura(url)!r}): se espera una URL de "
                             "SQLAlchemy de SQLite o PostgreSQL, p. ej. sqlite:////ruta/soporte.db")
        return url

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"zona horaria desconocida: {value!r} (ejemplo: America/Guayaquil)") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
