"""Database plumbing shared by the services: engines, the statement driver, start-up checks, migrations."""
