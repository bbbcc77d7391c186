"""Helpers for the tile and witness tests: record events, sequence, publish, verify."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flask import Flask

from charity import ROOT
from charity.auditlog import checkpoint, publish, store
from charity.core.events import record_event
from charity.extensions import db
from tests.support.auditlog import synthetic
from tests.support.factories import OrganizationFactory


def sequence_and_publish(application: Flask) -> dict:
    with application.app_context():
        signer = checkpoint.signer_for(application)
        checkpoint.sequence_batch(db.session, signer, application.config["AUDITLOG_ORIGIN"], 5000)
        db.session.commit()
        summary = publish.publish(db.session, application)
        db.session.remove()
        return summary


def record(application: Flask, organizations: int, noise: int) -> None:
    with application.app_context():
        for _ in range(organizations):
            organization = OrganizationFactory()
            record_event(db.session, "organization.verified", subject_id=organization.id)
        for entry in synthetic(noise):
            store.enqueue_entry(db.session, entry, store.now_utc())
        db.session.commit()
        db.session.remove()


def verify(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "charity.auditlog.verifier", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
