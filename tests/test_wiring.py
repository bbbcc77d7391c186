"""Wiring is explicit (charity/wiring.py, called by create_app): importing modules registers
no subscriber, payload builder, webhook handler or index column."""

from __future__ import annotations

import subprocess
import sys

from charity import ROOT
from charity.core import events
from charity.payments import webhooks
from charity.wiring import PAYLOAD_BUILDERS, STRIPE_WEBHOOK_HANDLERS, SUBSCRIBERS

PROBE = """
import importlib, pkgutil
import charity
for module in pkgutil.walk_packages(charity.__path__, "charity."):
    importlib.import_module(module.name)
from charity.auditlog import store
from charity.core import events
from charity.payments import webhooks
before = (len(events.subscribers()), len(events.event_types()),
          len(webhooks.handled_event_types()), len(store.INDEX_COLUMNS))
from charity import create_app
from config import TestingConfig
create_app(TestingConfig("sqlite://"))
after = (len(events.subscribers()), len(events.event_types()),
         len(webhooks.handled_event_types()), len(store.INDEX_COLUMNS))
print(before, after)
"""


def test_importing_every_module_registers_nothing_create_app_registers_everything():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    before, after = result.stdout.strip().rsplit("\n", 1)[-1].split(") (")
    assert before == "(0, 0, 0, 0"
    expected = (len(SUBSCRIBERS), len(PAYLOAD_BUILDERS), len(STRIPE_WEBHOOK_HANDLERS), 1)
    assert after == f"{expected[0]}, {expected[1]}, {expected[2]}, {expected[3]})"


def test_the_app_sees_every_subscriber_builder_and_handler(app):
    assert set(SUBSCRIBERS) <= set(events.subscribers())
    assert {event_type for event_type, _table, _builder in PAYLOAD_BUILDERS} <= set(
        events.event_types()
    )
    assert set(STRIPE_WEBHOOK_HANDLERS) <= set(webhooks.handled_event_types())
    assert "invoice.payment_failed" in webhooks.handled_event_types()  # monthly gifts too


def test_the_log_checker_imports_no_service_to_find_builders():
    source = (ROOT / "charity/auditlog/integrity.py").read_text(encoding="utf-8")
    assert "charity.services" not in source and "import_module" not in source


def test_no_merge_markers_and_no_endpoint_existence_guards():
    """Issue 19 part 9: the area markers of merged branches (``# funds:``, ``# gifts:``,
    ``# --- end givingdays ---``) and the "does this endpoint exist yet?" guards are gone:
    every blueprint is always registered, so a missing endpoint must fail loudly."""
    import re

    marker = re.compile(r"#:? ?(---( end)? )?(funds|gifts|givingdays|payments)\b( ---|:|$)", re.M)
    found = []
    for path in sorted((ROOT / "charity").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if marker.search(text):
            found.append(f"{path.relative_to(ROOT)}: marker")
        if "in current_app.view_functions" in text:
            found.append(f"{path.relative_to(ROOT)}: endpoint guard")
    guard = re.compile(r"live(_server)?\.has\(|in (current_)?app\.view_functions|has not landed")
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path.name != "test_wiring.py" and guard.search(path.read_text(encoding="utf-8")):
            found.append(f"{path.relative_to(ROOT)}: endpoint guard")
    assert found == []
