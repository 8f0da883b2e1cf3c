"""Import a FastAPI monolith's users and cigars into the two services' databases (docs/operations.md)."""
