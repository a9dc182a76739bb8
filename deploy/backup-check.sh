#!/usr/bin/env bash
# Restore a Kampus dump into a scratch database and check that every table holds the rows the dump holds.
#
#   DATABASE_URL=postgres://kampus:PASSWORD@127.0.0.1:5432/kampus deploy/backup-check.sh [DUMP]
#
# Without DUMP it first dumps DATABASE_URL itself (as deploy/kampus-backup.sh does). The scratch
# database, RESTORE_CHECK_DATABASE (default: <name>_restore_check), is created on the same server
# (the role needs CREATEDB, or run it with the postgres role's URL), restored with pg_restore,
# compared table by table with the dump's own row counts, checked to be at the live database's
# migration, and dropped again. Exit status 0 only if all of that worked; the output lists each table.
set -euo pipefail

: "${DATABASE_URL:?DATABASE_URL is not set: the database whose dump to check, postgres://USER:PASSWORD@HOST:5432/NAME}"
# The server's notices ("database … does not exist, skipping") are not news here.
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
fail() {
    echo "backup-check: FAILED: $*" >&2
    exit 1
}

# postgres://user:password@host:port/name?options -> the base, the name and the options.
url_without_options="${DATABASE_URL%%\?*}"
options=""
[ "$url_without_options" = "$DATABASE_URL" ] || options="?${DATABASE_URL#*\?}"
live_name="${url_without_options##*/}"
server_url="${url_without_options%/*}"
scratch="${RESTORE_CHECK_DATABASE:-${live_name}_restore_check}"
[[ "$scratch" =~ ^[A-Za-z0-9_]+$ ]] || fail "RESTORE_CHECK_DATABASE=$scratch: use letters, digits and _"
[ "$scratch" != "$live_name" ] || fail "the scratch database must not be the live one ($live_name)"
scratch_url="$server_url/$scratch$options"

work=$(mktemp -d)
cleanup() {
    dropdb --if-exists --force --maintenance-db="$DATABASE_URL" "$scratch" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

dump="${1:-}"
label="$dump"
if [ -z "$dump" ]; then
    dump="$work/kampus.dump"
    label="a dump of $live_name made now"
    pg_dump --format=custom --no-owner --file="$dump" --dbname="$DATABASE_URL" || fail "pg_dump of $live_name"
fi
[ -r "$dump" ] || fail "cannot read the dump $dump"

# Rows per table as the dump holds them: one line per row in each COPY block of the data.
pg_restore --data-only --file=- "$dump" >"$work/data.sql" || fail "pg_restore cannot read $dump"
awk '/^COPY / { table = $2; rows = 0; copying = 1; next }
     copying && $0 == "\\." { print table, rows; copying = 0; next }
     copying { rows++ }' "$work/data.sql" >"$work/dumped-counts"
rm -f "$work/data.sql"
[ -s "$work/dumped-counts" ] || fail "the dump $dump holds no table data"

dropdb --if-exists --force --maintenance-db="$DATABASE_URL" "$scratch"
createdb --maintenance-db="$DATABASE_URL" "$scratch" || fail "cannot create the scratch database $scratch"
pg_restore --no-owner --exit-on-error --dbname="$scratch_url" "$dump" || fail "pg_restore into $scratch"

tables=0
rows=0
while read -r table dumped; do
    restored=$(psql --no-psqlrc --quiet --tuples-only --no-align --dbname="$scratch_url" \
        --command="SELECT count(*) FROM ONLY $table") || fail "cannot count $table in $scratch"
    printf '%-50s %10s rows\n' "$table" "$restored"
    [ "$restored" = "$dumped" ] || fail "$table: the dump holds $dumped rows, the restored database $restored"
    tables=$((tables + 1))
    rows=$((rows + restored))
done <"$work/dumped-counts"

# The restored schema is the live one's: the same migrations applied.
migrations_sql="SELECT count(*) FROM django_migrations"
restored_migrations=$(psql --no-psqlrc -qtAX --dbname="$scratch_url" --command="$migrations_sql")
live_migrations=$(psql --no-psqlrc -qtAX --dbname="$DATABASE_URL" --command="$migrations_sql")
[ "$restored_migrations" = "$live_migrations" ] ||
    fail "the restored database has $restored_migrations migrations applied, the live one $live_migrations"

echo "backup-check: OK: $label restored into $scratch: $tables tables, $rows rows, as in the dump;" \
    "$restored_migrations migrations, as live"
