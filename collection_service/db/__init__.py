"""Persistence of collection_service: the only package here that imports SQLAlchemy."""
