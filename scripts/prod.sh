#!/usr/bin/env bash
# Production start: web (gunicorn), job workers (RQ) and the log sequencer, supervised
# together.
#
#   CHARITY_ENV=production DATABASE_URL=... REDIS_URL=... SECRET_KEY=... scripts/prod.sh
#
# Like a Procfile with three lines:
#   web:       gunicorn -c gunicorn.conf.py wsgi:app
#   worker:    flask jobs worker
#   sequencer: flask audit sequencer   (only with AUDITLOG_SEQUENCER=batched, the default)
# If any process exits, the others are stopped and the script exits with its status, so a
# process manager (systemd, a container runtime) restarts the whole set. SIGTERM/SIGINT are
# passed on: gunicorn finishes running requests, workers finish their current job.
#
# Options (environment): JOBS_WORKERS (default 1) worker processes; RUN_MIGRATIONS=1 runs
# `flask db upgrade` first (single-host deployments; with several app hosts run it once,
# from the deploy step, instead). docs/deployment.md lists every variable.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"
export FLASK_APP=wsgi:app
export CHARITY_ENV="${CHARITY_ENV:-production}"
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/charity-metrics-$$}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

# Fail before starting anything if the configuration is refused (it names the setting).
"$BIN/python" - <<'PY'
import sys
from config import ConfigError, load_config
try:
    load_config()
except ConfigError as error:
    sys.exit(str(error))
PY

if [ "${RUN_MIGRATIONS:-0}" = "1" ]; then
  "$BIN/flask" db upgrade
fi

pids=()
stop_all() {
  trap - TERM INT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}
trap 'stop_all; exit 143' TERM INT

"$BIN/gunicorn" -c gunicorn.conf.py wsgi:app &
pids+=("$!")
for _ in $(seq 1 "${JOBS_WORKERS:-1}"); do
  "$BIN/flask" jobs worker &
  pids+=("$!")
done
if [ "${AUDITLOG_SEQUENCER:-batched}" = "batched" ]; then
  "$BIN/flask" audit sequencer &
  pids+=("$!")
fi

status=0
wait -n "${pids[@]}" || status=$?
echo "prod.sh: a process exited (status $status); stopping the others" >&2
stop_all
exit "$status"
