#!/usr/bin/env bash
# `make run` after the set-up: migrates, loads the demo data, then supervisord runs the embedded broker, the web server, a Celery worker and beat
# (config/supervisord.conf), restarting any that dies. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."

export HOST=${HOST:-127.0.0.1}
export PORT=${PORT:-8000}
mkdir -p "${VAR_DIR:-var}"
VAR_DIR=$(cd "${VAR_DIR:-var}" && pwd)
export VAR_DIR
export BROKER_DATA_DIR=${BROKER_DATA_DIR:-$VAR_DIR/broker}
mkdir -p "$VAR_DIR/log" "$BROKER_DATA_DIR"
case "$VAR_DIR$BROKER_DATA_DIR" in
  *[[:space:]]*) echo "VAR_DIR and BROKER_DATA_DIR may not contain spaces: $VAR_DIR" >&2; exit 1 ;;
esac
if [ ${#BROKER_DATA_DIR} -gt 90 ]; then
  echo "BROKER_DATA_DIR is too long for the broker's Unix socket (at most 90 characters): $BROKER_DATA_DIR" >&2
  exit 1
fi
# Migrations and demo data first, with the broker up so that the tasks they queue are kept for the worker.
socket=$BROKER_DATA_DIR/redis.sock
scripts/embedded-redis.sh "$BROKER_DATA_DIR" >>"$VAR_DIR/log/broker.log" 2>&1 &
broker=$!
trap 'kill "$broker" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  redis-cli -s "$socket" ping >/dev/null 2>&1 && break
  sleep 0.1
done
if ! redis-cli -s "$socket" ping >/dev/null 2>&1; then
  echo "The embedded broker did not start: see $VAR_DIR/log/broker.log (is another make run using $VAR_DIR?)" >&2
  exit 1
fi
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed_demo
redis-cli -s "$socket" shutdown >/dev/null
wait "$broker" || true
trap - EXIT

site_url=$(DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.dev} .venv/bin/python -c "from django.conf import settings; print(settings.SITE_URL)" 2>/dev/null || echo "http://$HOST:$PORT")

cat <<TXT

  CareStar is starting on $site_url/
    Home page and courses   $site_url/
    Log in (front end)      $site_url/accounts/login/
    Management console      $site_url/admin/
    Verify a certificate    $site_url/verify/

  Demo logins (password: carestar-demo)
    admin                   administrator (医保局管理员), superuser
    trainer1, trainer2      training bodies (培训机构)
    assessor1, assessor2    assessors (考评员)
    manager1, manager2      institution managers (定点机构管理员)
    caregiver01 … caregiver50  caregivers (护理员)

  Processes:  VAR_DIR=$VAR_DIR .venv/bin/supervisorctl -c config/supervisord.conf status
  Logs:       $VAR_DIR/log/
  Ctrl-C stops the web server, the worker, beat and the broker.

TXT
exec .venv/bin/supervisord -c config/supervisord.conf
