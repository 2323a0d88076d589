#!/bin/sh
# Runs once, when the PostgreSQL container starts on an empty data folder (docker-compose.yml).
# Creates the two roles of docs/operations.md: nrm_owner owns the database and its schema and
# runs `nrm db upgrade --grant-to nrm_app`, which grants nrm_app the service's privileges and
# withholds UPDATE, DELETE and TRUNCATE on audit_events.
set -eu
: "${NRM_OWNER_PASSWORD:?set NRM_OWNER_PASSWORD (see docs/operations.md)}"
: "${NRM_APP_PASSWORD:?set NRM_APP_PASSWORD (see docs/operations.md)}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v db="$POSTGRES_DB" \
    -v owner_password="$NRM_OWNER_PASSWORD" \
    -v app_password="$NRM_APP_PASSWORD" <<'SQL'
CREATE ROLE nrm_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE nrm_app LOGIN PASSWORD :'app_password';
ALTER DATABASE :"db" OWNER TO nrm_owner;
ALTER SCHEMA public OWNER TO nrm_owner;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO nrm_owner, nrm_app;
SQL
