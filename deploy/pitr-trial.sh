#!/usr/bin/env bash
# Try docs/deployment.md's point-in-time recovery on a throwaway PostgreSQL cluster of its own
# (its own directory and port; the server Kampus uses is not touched):
#
#   sudo deploy/pitr-trial.sh            # run from the checkout, after ./kampus setup
#
# It starts a cluster with the documented WAL archiving, migrates Kampus into it, takes a base
# backup (pg_basebackup), records heartbeats, notes the time, then "loses" them (DELETE). It then
# throws the cluster's data away, restores the base backup with restore_command and
# recovery_target_time, checks while recovery is paused that the rows of before that time are
# back and those of after it are not, resumes (the server becomes writable), and removes everything.
# Exit status 0 only if all of that held. Needs PostgreSQL's server binaries (postgresql package);
# run as root (it runs the cluster as the postgres user) or as postgres.
set -euo pipefail

cd "$(dirname "$0")/.."
PORT="${PITR_TRIAL_PORT:-5491}"
ROOT_DIR="$(mktemp -d /tmp/kampus-pitr-trial.XXXXXX)"
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
PY="${PYTHON:-.venv/bin/python}"
DB_URL="postgres://postgres@127.0.0.1:$PORT/kampus"

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
sql() { as_postgres "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qtAX -d "${2:-kampus}" -c "$1"; }
fail() {
    echo "pitr-trial: FAILED: $*" >&2
    exit 1
}
cleanup() {
    as_postgres "$BIN/pg_ctl" -D "$ROOT_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$ROOT_DIR"
}
trap cleanup EXIT

mkdir -p "$ROOT_DIR"/{data,wal,base}
[ "$(id -u)" != 0 ] || chown -R postgres:postgres "$ROOT_DIR"
echo "[${SECONDS}s] == a cluster of its own in $ROOT_DIR on port $PORT ($BIN)"
as_postgres "$BIN/initdb" -D "$ROOT_DIR/data" -A trust -U postgres >/dev/null
cat >>"$ROOT_DIR/data/postgresql.conf" <<EOF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$ROOT_DIR'
# docs/deployment.md, "Point-in-time recovery":
wal_level = replica
archive_mode = on
archive_command = 'test ! -f $ROOT_DIR/wal/%f && cp %p $ROOT_DIR/wal/%f'
archive_timeout = 300
EOF
as_postgres "$BIN/pg_ctl" -D "$ROOT_DIR/data" -l "$ROOT_DIR/server.log" -w start >/dev/null
sql "CREATE DATABASE kampus" postgres
sql "CREATE EXTENSION IF NOT EXISTS btree_gist"
DEBUG=1 DATABASE_URL="$DB_URL" $PY manage.py migrate --no-input -v 0

echo "[${SECONDS}s] == base backup (pg_basebackup -Ft -z -Xs --checkpoint=fast)"
as_postgres "$BIN/pg_basebackup" -h 127.0.0.1 -p "$PORT" -U postgres -D "$ROOT_DIR/base" -Ft -z -Xs --checkpoint=fast

echo "[${SECONDS}s] == rows after the base backup, the target time, then the accident"
beat() { sql "INSERT INTO campus_heartbeat (name, kind, beat_at, state) VALUES ('$1', 'worker', now(), '{}')"; }
beat pitr-before-1
beat pitr-before-2
sleep 1
target=$(sql "SELECT now()")
sleep 1
beat pitr-after-target
sql "DELETE FROM campus_heartbeat"
# Finish the current WAL segment so that it is archived (archive_timeout would do it within 5 minutes).
sql "SELECT pg_switch_wal()" >/dev/null
for _ in $(seq 60); do
    [ "$(sql "SELECT archived_count > 0 AND (last_failed_wal IS NULL OR last_archived_time > last_failed_time) FROM pg_stat_archiver" postgres)" = t ] &&
        [ "$(sql "SELECT last_archived_wal >= pg_walfile_name(pg_current_wal_lsn() - 1) FROM pg_stat_archiver" postgres)" = t ] && break
    sleep 0.5
done
echo "target time: $target; archived WAL segments: $(ls "$ROOT_DIR/wal" | wc -l)"

echo "[${SECONDS}s] == the server is lost: its data directory is replaced by the base backup"
as_postgres "$BIN/pg_ctl" -D "$ROOT_DIR/data" -m fast -w stop >/dev/null
rm -rf "$ROOT_DIR/data" && mkdir -m 0700 "$ROOT_DIR/data"
tar -xzf "$ROOT_DIR/base/base.tar.gz" -C "$ROOT_DIR/data"
tar -xzf "$ROOT_DIR/base/pg_wal.tar.gz" -C "$ROOT_DIR/data/pg_wal"
cat >>"$ROOT_DIR/data/postgresql.conf" <<EOF
restore_command = 'cp $ROOT_DIR/wal/%f %p'
recovery_target_time = '$target'
EOF
touch "$ROOT_DIR/data/recovery.signal"
[ "$(id -u)" != 0 ] || chown -R postgres:postgres "$ROOT_DIR/data"
as_postgres "$BIN/pg_ctl" -D "$ROOT_DIR/data" -l "$ROOT_DIR/server.log" -w start >/dev/null

echo "[${SECONDS}s] == recovery pauses at the target: check the data"
for _ in $(seq 120); do
    [ "$(sql "SELECT pg_get_wal_replay_pause_state()" postgres 2>/dev/null)" = paused ] && break
    sleep 0.5
done
[ "$(sql "SELECT pg_get_wal_replay_pause_state()" postgres)" = paused ] ||
    { tail -n 20 "$ROOT_DIR/server.log"; fail "recovery did not pause at the target time"; }
names=$(sql "SELECT string_agg(name, ',' ORDER BY name) FROM campus_heartbeat WHERE name LIKE 'pitr-%'")
echo "rows at the target: $names"
[ "$names" = "pitr-before-1,pitr-before-2" ] || fail "expected pitr-before-1,pitr-before-2 at the target time, found '$names'"
sql "SELECT pg_wal_replay_resume()" postgres >/dev/null
for _ in $(seq 60); do
    [ "$(sql "SELECT pg_is_in_recovery()" postgres)" = f ] && break
    sleep 0.5
done
[ "$(sql "SELECT pg_is_in_recovery()" postgres)" = f ] || fail "the server did not leave recovery after pg_wal_replay_resume()"
beat pitr-after-recovery
DEBUG=1 DATABASE_URL="$DB_URL" $PY manage.py migrate --check --no-input -v 0 || fail "the recovered database misses migrations"
echo "pitr-trial: OK: recovered to $target: the rows of before it are back, the later ones and the DELETE are not; writable again"
