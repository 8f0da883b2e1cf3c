"""What auth_service's ports are made of: the database, password hashing, signing keys and tokens, mail,
and the client of collection_service."""
