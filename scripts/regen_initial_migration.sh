#!/usr/bin/env bash
# Until the first release lands, the schema is one migration, regenerated from the models.
# After a release, add migrations with `flask db migrate -m "..."` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f migrations/versions/*.py
export FLASK_APP=wsgi:app CHARITY_ENV=development CHARITY_INSTANCE="$tmp" DATABASE_URL="sqlite:///$tmp/empty.sqlite3"
.venv/bin/flask db migrate -m "initial schema" --rev-id 0001_initial >"$tmp/log" 2>&1 || true
if ! ls migrations/versions/0001_initial_*.py >/dev/null 2>&1; then
  cat "$tmp/log" >&2
  echo "migration was not generated" >&2
  exit 1
fi
sed -i "/^Create Date:/d" migrations/versions/*.py
.venv/bin/ruff format -q migrations/versions || true
ls migrations/versions
