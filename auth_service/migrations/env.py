"""Alembic environment of auth_service: the URL from the migrate command, else AUTH_DATABASE_URL."""

from __future__ import annotations

from auth_service.adapters.db.models import Base
from auth_service.settings import Settings
from service_kit.db.alembic_env import run_migrations

run_migrations(Base.metadata, lambda: Settings().database_url)
