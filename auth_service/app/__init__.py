"""Use cases of auth_service, one module per capability; they see the world through ports.py only."""
