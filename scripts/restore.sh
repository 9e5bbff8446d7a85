#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into a fresh installation: the environment names an empty PostgreSQL
# database (DATABASE_URL) and the file roots and key paths to fill (MEDIA_ROOT, PRIVATE_MEDIA_ROOT, the key
# settings). Nothing is overwritten: a database with tables, a file root with files or a different key already in
# place stops it before anything is written. Then it checks: migrations, and every certificate verified with the
# restored files and keys, compared with the backup's record. docs/backup.md explains it. Usage: restore.sh BACKUP
set -euo pipefail
backup=${1:?usage: scripts/restore.sh BACKUP}
backup=$(cd "$backup" && pwd)
cd "$(dirname "$0")/.."
python=.venv/bin/python

for part in database.dump media.tar private.tar certificates.jsonl; do
  if [ ! -f "$backup/$part" ]; then
    echo "restore: $backup/$part is missing: not a backup made by scripts/backup.sh" >&2
    exit 1
  fi
done

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
  echo "restore: DATABASE_URL names a $vendor database; restore into an empty PostgreSQL database" >&2
  exit 1
fi
export PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE

fail() {
  echo "restore: $*; nothing was written" >&2
  exit 1
}

# Every check before the first write.
tables=$(psql --no-psqlrc --tuples-only --no-align --command="SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
[ "$tables" = 0 ] || fail "database $PGDATABASE already has $tables tables; create an empty one (createdb)"
for root in "$media_root" "$private_root"; do
  if [ -d "$root" ] && [ -n "$(find "$root" -mindepth 1 -print -quit)" ]; then
    fail "$root is not empty"
  fi
done
same_or_absent() {  # same_or_absent BACKUP_FILE TARGET_FILE
  [ ! -e "$2" ] || cmp -s "$1" "$2" || fail "$2 exists and differs from the backup's $(basename "$1")"
}
[ ! -f "$backup/keys/openbadges-ed25519.pem" ] || same_or_absent "$backup/keys/openbadges-ed25519.pem" "$openbadges_key"
if [ -d "$backup/keys/pdf-signing" ]; then
  for key in "$backup/keys/pdf-signing"/*; do
    same_or_absent "$key" "$signing_dir/$(basename "$key")"
  done
fi
for pair in "pdf-signing.p12:$pkcs12_file" "trust-roots.pem:$trust_roots_file"; do
  name=${pair%%:*} target=${pair#*:}
  if [ -f "$backup/keys/$name" ]; then
    [ -n "$target" ] || fail "the backup holds keys/$name: set $([ "$name" = trust-roots.pem ] && echo PDF_SIGNING_TRUST_ROOTS_FILE || echo 'PDF_SIGNING_PKCS12_FILE (and its password)') to where it goes"
    same_or_absent "$backup/keys/$name" "$target"
  fi
done

echo "restore: database into $PGDATABASE on ${PGHOST:-local socket}"
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$PGDATABASE" "$backup/database.dump"

umask 077
mkdir -p "$media_root" "$private_root"
tar --extract --file="$backup/media.tar" --directory="$media_root"
tar --extract --file="$backup/private.tar" --directory="$private_root"
if [ -f "$backup/keys/openbadges-ed25519.pem" ]; then
  mkdir -p "$(dirname "$openbadges_key")"
  cp -p "$backup/keys/openbadges-ed25519.pem" "$openbadges_key"
fi
if [ -d "$backup/keys/pdf-signing" ]; then
  mkdir -p "$signing_dir"
  cp -p -R "$backup/keys/pdf-signing/." "$signing_dir/"
fi
if [ -f "$backup/keys/pdf-signing.p12" ]; then
  mkdir -p "$(dirname "$pkcs12_file")"
  cp -p "$backup/keys/pdf-signing.p12" "$pkcs12_file"
fi
if [ -f "$backup/keys/trust-roots.pem" ]; then
  mkdir -p "$(dirname "$trust_roots_file")"
  cp -p "$backup/keys/trust-roots.pem" "$trust_roots_file"
fi

echo "restore: checking"
status=0
if ! "$python" manage.py migrate --check >/dev/null; then
  echo "restore: the restored schema is not this code's: check out the backup's commit (MANIFEST), or migrate" >&2
  status=1
fi
report=$(mktemp --tmpdir carestar-restored-XXXXXX.jsonl)
"$python" manage.py certificates_verify >"$report" || status=1
"$python" - "$backup/certificates.jsonl" "$report" <<'PY' || status=1
import json
import sys

def by_serial(path):
    with open(path, encoding="utf-8") as handle:
        return {json.loads(line)["serial_number"]: line for line in handle if line.strip()}

recorded, restored = by_serial(sys.argv[1]), by_serial(sys.argv[2])
differ = sorted(serial for serial in recorded.keys() & restored.keys() if recorded[serial] != restored[serial])
print(f"restore: {len(restored)} certificates restored; {len(restored) - len(differ)} verify as the backup recorded")
if recorded.keys() - restored.keys():
    print(f"restore: {len(recorded.keys() - restored.keys())} recorded but not in the dump (issued while it ran)")
if differ:
    print(f"restore: {len(differ)} verify differently from the record: {', '.join(differ[:20])}", file=sys.stderr)
    sys.exit(1)
PY
echo "restore: verification of the restored certificates in $report"
exit $status
