"""auth_service: users, the OAuth2 password grant, and the keys that sign access tokens."""
