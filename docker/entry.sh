#!/bin/sh
# Every kamconf container's entry point: python -m stack.one with the settings of docker/kamconf.toml.
#   entry.sh prepare | NAME | --check NAME | postgres | prometheus (and --check of each) | token
# PostgreSQL's password is made once by the prepare service into the shared secrets volume and given
# to the components in their environment, never in a file in git or on a command line.
set -eu
cd /opt/kamconf
var=/var/lib/kamconf
pg_port=${KAMCONF_PG_PORT:-5433}
pg_address=127.0.0.77
if [ -s "$var/secrets/postgres.pass" ]; then
  KAMCONF_WEB_DATABASE_URL="postgresql+psycopg://kamconf:$(cat "$var/secrets/postgres.pass")@$pg_address:$pg_port/kamconf"
  export KAMCONF_WEB_DATABASE_URL
fi
case "$*" in
  prepare)
    .venv/bin/python -m stack.one prepare
    [ -s "$var/secrets/postgres.pass" ] || (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_hex(24))' >"$var/secrets/postgres.pass")
    exit 0 ;;
  postgres)
    data=/var/lib/postgresql/kamconf
    if [ ! -s "$data/PG_VERSION" ]; then
      mkdir -p "$data" && chown postgres:postgres "$data"
      install -o postgres -m 600 "$var/secrets/postgres.pass" /tmp/pgpass
      runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D "$data" -U kamconf --pwfile=/tmp/pgpass \
        -A scram-sha-256 -E UTF8 >/dev/null
      rm -f /tmp/pgpass
      echo "CREATE DATABASE kamconf" | runuser -u postgres -- /usr/lib/postgresql/15/bin/postgres --single -D "$data" template1 >/dev/null
    fi
    mkdir -p /run/postgresql && chown postgres /run/postgresql
    exec runuser -u postgres -- /usr/lib/postgresql/15/bin/postgres -D "$data" -c "listen_addresses=$pg_address" \
      -p "$pg_port" -k /run/postgresql ;;
  "--check postgres")
    exec runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_isready -q -h "$pg_address" -p "$pg_port" ;;
  token)  # one new admin API token (make compose-token; the compose test)
    exec .venv/bin/python -m web.token ;;
  prometheus)
    exec .venv/bin/python -m prometheus.monitor --port "${KAMCONF_MONITOR_PORT:-9190}" ;;
  "--check prometheus")
    exec .venv/bin/python -c "import sys; from stack.components import http_ok; sys.exit(not http_ok('http://127.0.0.1:${KAMCONF_MONITOR_PORT:-9190}/-/ready'))" ;;
  *)
    exec .venv/bin/python -m stack.one "$@" ;;
esac
