#!/usr/bin/env bash
# Back up CareStar into a new directory DEST: the PostgreSQL database first (pg_dump, custom format: one consistent
# snapshot), then the files (MEDIA_ROOT, PRIVATE_MEDIA_ROOT) and the signing keys, then the verification result of
# every certificate as a record to check a restore against. Paths come from the application's own settings, so run
# it with the environment the application runs with. docs/backup.md explains each part. Usage: backup.sh DEST
set -euo pipefail
dest=${1:?usage: scripts/backup.sh DEST}
cd "$(dirname "$0")/.."
python=.venv/bin/python

if [ -e "$dest" ]; then
  echo "backup: $dest exists; a backup goes into a new directory" >&2
  exit 1
fi

# The settings, as shell assignments: the database (as libpq's PG* variables, so that no password is on a command
# line), the file roots and the key files.
settings=$("$python" manage.py shell --no-imports -c '
import shlex
from django.conf import settings
from django.db import connection

database = connection.settings_dict
values = {
    "vendor": connection.vendor,
    "PGHOST": database.get("HOST") or "",
    "PGPORT": str(database.get("PORT") or ""),
    "PGUSER": database.get("USER") or "",
    "PGPASSWORD": database.get("PASSWORD") or "",
    "PGDATABASE": database.get("NAME") or "",
    "media_root": settings.MEDIA_ROOT,
    "private_root": settings.PRIVATE_MEDIA_ROOT,
    "signing_dir": settings.PDF_SIGNING_DIR,
    "openbadges_key": settings.OPENBADGES_SIGNING_KEY_FILE,
    "pkcs12_file": settings.PDF_SIGNING_PKCS12_FILE,
    "trust_roots_file": settings.PDF_SIGNING_TRUST_ROOTS_FILE,
}
for name, value in values.items():
    print(f"{name}={shlex.quote(str(value))}")
')
eval "$settings"
if [ "$vendor" != postgresql ]; then
  echo "backup: the database is $vendor, not PostgreSQL; docs/backup.md says how to back up the embedded SQLite one" >&2
  exit 1
fi
export PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE

umask 077  # the keys and the identity numbers in the dump are for the backup's owner alone
mkdir -p "$dest/keys"

echo "backup: database $PGDATABASE on ${PGHOST:-local socket}"
pg_dump --format=custom --no-owner --file="$dest/database.dump"

# After the dump: every certificate in it had its PDF stored before its row was committed, so the file is there.
for root in media_root private_root; do
  directory=${!root}
  archive="$dest/${root%_root}.tar"
  if [ -d "$directory" ]; then
    echo "backup: files under $directory"
    tar --create --file="$archive" --directory="$directory" .
  else
    tar --create --file="$archive" --files-from=/dev/null
  fi
done

if [ -f "$signing_dir/pdf-signing-key.pem" ]; then
  cp -p -R "$signing_dir" "$dest/keys/pdf-signing"  # the local CA of development and tests
fi
if [ -f "$openbadges_key" ]; then
  cp -p "$openbadges_key" "$dest/keys/openbadges-ed25519.pem"
else
  echo "backup: warning: no Open Badges key at $openbadges_key" >&2
fi
if [ -n "$pkcs12_file" ]; then
  cp -p "$pkcs12_file" "$dest/keys/pdf-signing.p12"
fi
if [ -n "$trust_roots_file" ]; then
  cp -p "$trust_roots_file" "$dest/keys/trust-roots.pem"
fi

echo "backup: verification record of every certificate"
if ! "$python" manage.py certificates_verify >"$dest/certificates.jsonl"; then
  echo "backup: warning: some certificates do not verify on this system (see above); the backup is complete" >&2
fi

{
  echo "created: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "pg_dump: $(pg_dump --version)"
  echo "server: $(psql --no-psqlrc --tuples-only --no-align --command='SHOW server_version')"
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
  (cd "$dest" && find . -type f ! -name MANIFEST -print0 | sort -z | xargs -0 sha256sum)
} >"$dest/MANIFEST"
echo "backup: done, $dest ($(du -sh "$dest" | cut -f1))"
