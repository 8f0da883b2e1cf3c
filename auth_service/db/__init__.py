"""Persistence of auth_service: the only package here that imports SQLAlchemy."""
