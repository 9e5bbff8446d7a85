#!/usr/bin/env bash
# Starts the web server and a Celery worker with beat on the embedded broker; Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

mkdir -p var
.venv/bin/celery -A config worker --beat --loglevel=INFO --concurrency=2 \
  --schedule=var/celerybeat-schedule --hostname="carestar@%h" &
pids+=($!)
.venv/bin/python manage.py runserver "$HOST:$PORT" &
pids+=($!)

cat <<TXT

  CareStar is starting on http://$HOST:$PORT/
    Home page and courses   http://$HOST:$PORT/
    Log in (front end)      http://$HOST:$PORT/accounts/login/
    Management console      http://$HOST:$PORT/admin/
    Verify a certificate    http://$HOST:$PORT/verify/

  Demo logins (password: carestar-demo)
    admin                   administrator (医保局管理员), superuser
    trainer1, trainer2      training bodies (培训机构)
    assessor1, assessor2    assessors (考评员)
    manager1, manager2      institution managers (定点机构管理员)
    caregiver01 … caregiver50  caregivers (护理员)

  Ctrl-C stops the web server and the worker.

TXT
wait -n
