#!/usr/bin/env bash
# Dump the Kampus database (DATABASE_URL) into KAMPUS_BACKUP_DIR and delete dumps older than
# KAMPUS_BACKUP_KEEP_DAYS. Run nightly by deploy/kampus-backup.timer; prints the file it wrote.
#
#   DATABASE_URL=postgres://kampus:PASSWORD@127.0.0.1:5432/kampus deploy/kampus-backup.sh
#
# The dump is pg_dump's custom format (compressed; pg_restore can restore all of it or single
# tables). It is written under a temporary name and renamed when complete, so a dump that is
# there is whole. Copy the directory off the host (restic, borg, rsync): a backup on the
# database's own disk does not survive that disk. Check a dump with deploy/backup-check.sh.
set -euo pipefail

: "${DATABASE_URL:?DATABASE_URL is not set: the database to dump, postgres://USER:PASSWORD@HOST:5432/NAME}"
case "$DATABASE_URL" in
postgres://* | postgresql://*) ;;
*)
    echo "kampus-backup: DATABASE_URL is not a PostgreSQL URL; back up the SQLite file by copying it while Kampus is stopped" >&2
    exit 2
    ;;
esac
backup_dir="${KAMPUS_BACKUP_DIR:-/var/backups/kampus}"
keep_days="${KAMPUS_BACKUP_KEEP_DAYS:-14}"
[[ "$keep_days" =~ ^[0-9]+$ ]] || {
    echo "kampus-backup: KAMPUS_BACKUP_KEEP_DAYS=$keep_days is not a number of days" >&2
    exit 2
}

umask 077 # the dumps hold personal data and password hashes (a directory made here is the owner's only too)
mkdir -p "$backup_dir"
name="kampus-$(date -u +%Y-%m-%dT%H%M%SZ).dump"
partial="$backup_dir/.$name.partial"
trap 'rm -f "$partial"' EXIT
pg_dump --format=custom --no-owner --file="$partial" --dbname="$DATABASE_URL"
mv "$partial" "$backup_dir/$name"
trap - EXIT

if [ "$keep_days" -gt 0 ]; then
    find "$backup_dir" -maxdepth 1 -name 'kampus-*.dump' -mtime "+$keep_days" -print -delete |
        sed 's/^/deleted old dump: /'
fi
echo "$backup_dir/$name"
