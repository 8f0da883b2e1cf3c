"""auth_service's database: the only package of the service that imports SQLAlchemy, and its schema history."""

from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
