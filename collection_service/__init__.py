"""collection_service: cigars, owner-only writes, tokens verified offline against auth_service's JWKS."""
