"""Use cases of collection_service; they see the world through ports.py only."""
