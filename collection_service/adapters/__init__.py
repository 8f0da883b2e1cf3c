"""What collection_service's ports are made of: the database and auth_service's public keys."""
