#!/bin/sh
# PostgreSQL init script (docker-entrypoint-initdb.d): one role and one database per service.
# Each role owns its own database and cannot connect to the other's. Passwords come from the
# environment (see .env.example); names may be overridden for tests. Idempotent.
set -eu

: "${AUTH_DB_PASSWORD:?AUTH_DB_PASSWORD is not set}"
: "${COLLECTION_DB_PASSWORD:?COLLECTION_DB_PASSWORD is not set}"
AUTH_DB="${AUTH_DB:-cigar_auth}"
COLLECTION_DB="${COLLECTION_DB:-cigar_collection}"

create() {  # $1 = role and database name, $2 = password
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v name="$1" -v password="$2" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'name')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \gexec
ALTER ROLE :"name" WITH LOGIN PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \gexec
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
}

create "$AUTH_DB" "$AUTH_DB_PASSWORD"
create "$COLLECTION_DB" "$COLLECTION_DB_PASSWORD"
