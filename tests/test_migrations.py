"""The migrations reach exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from charity.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def test_migrated_schema_matches_models(app, db_session):
    # The session's database was built by `upgrade()` from empty (see conftest).
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ; regenerate or add a migration: {diff}"


def test_flask_db_upgrade_on_an_existing_database(tmp_path):
    """`flask db upgrade` run twice on the same file database: the second is a no-op."""
    env = {
        "FLASK_APP": "wsgi:app",
        "CHARITY_ENV": "development",
        "CHARITY_INSTANCE": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'existing.sqlite3'}",
        "PATH": str(Path(sys.executable).parent),
    }
    flask = str(Path(sys.executable).parent / "flask")
    for _ in range(2):
        result = subprocess.run(
            [flask, "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
    current = subprocess.run(
        [flask, "db", "current"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert "(head)" in current.stdout
