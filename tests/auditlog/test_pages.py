"""The public log browser and the self-verifying entry page."""

from __future__ import annotations

import os
import re

from charity.auditlog import merkle
from charity.core.events import record_event
from tests.support.factories import OrganizationFactory


def test_nav_links_to_the_log(client) -> None:  # type: ignore[no-untyped-def]
    assert 'href="/log/"' in client.get("/").get_data(as_text=True)


def test_index_newest_first_with_filters(client, db_session, append_synthetic) -> None:  # type: ignore[no-untyped-def]
    append_synthetic(3)
    first, second = OrganizationFactory(), OrganizationFactory()
    [a] = record_event(db_session, "organization.verified", subject_id=first.id)
    [b] = record_event(db_session, "organization.rejected", subject_id=second.id)
    html = client.get("/log/").get_data(as_text=True)
    assert html.index(f"/log/{b}") < html.index(f"/log/{a}") < html.index('/log/2"')
    by_uscc = client.get(f"/log/?org={first.uscc}").get_data(as_text=True)
    assert f'/log/{a}"' in by_uscc and f'/log/{b}"' not in by_uscc
    by_id = client.get(f"/log/?org={second.id}").get_data(as_text=True)
    assert f'/log/{b}"' in by_id and f'/log/{a}"' not in by_id
    by_type = client.get("/log/?type=organization.rejected").get_data(as_text=True)
    assert f'/log/{b}"' in by_type and f'/log/{a}"' not in by_type
    future = client.get("/log/?from=2999-01-01").get_data(as_text=True)
    assert f'/log/{a}"' not in future
    today = client.get("/log/?from=2000-01-01&to=2999-01-01").get_data(as_text=True)
    assert f'/log/{a}"' in today


def test_bad_date_is_a_field_error(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/log/?from=yesterday")
    assert response.status_code == 400
    assert "aria-invalid" in response.get_data(as_text=True)


def test_pagination(client, append_synthetic) -> None:  # type: ignore[no-untyped-def]
    append_synthetic(120)
    html = client.get("/log/").get_data(as_text=True)
    assert '/log/119"' in html and '/log/69"' not in html
    older = re.search(r'href="(/log/\?before=\d+)"', html).group(1)
    page2 = client.get(older).get_data(as_text=True)
    assert '/log/69"' in page2 and '/log/119"' not in page2


def test_entry_page_carries_the_proof_for_the_browser(client, db_session) -> None:  # type: ignore[no-untyped-def]
    organization = OrganizationFactory()
    for _ in range(5):
        [index] = record_event(db_session, "organization.verified", subject_id=organization.id)
    response = client.get(f"/log/{index - 2}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>" not in html and "js/verify.js" in html
    leaf = re.search(r'data-leaf-hash="([0-9a-f]+)"', html).group(1)
    size = int(re.search(r'data-tree-size="(\d+)"', html).group(1))
    root = re.search(r'data-root="([0-9a-f]+)"', html).group(1)
    path = re.search(r'data-path="([0-9a-f,]*)"', html).group(1)
    import html as html_lib

    payload = html_lib.unescape(re.search(r'data-payload="([^"]*)"', html).group(1))
    assert merkle.leaf_hash(payload.encode()).hex() == leaf
    merkle.verify_inclusion(
        index - 2,
        size,
        bytes.fromhex(leaf),
        [bytes.fromhex(p) for p in path.split(",")],
        bytes.fromhex(root),
    )
    assert organization.uscc in html


def test_missing_entry_is_404(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/log/12345").status_code == 404


NODE_HARNESS = """
const fs = require("fs");
const data = JSON.parse(process.argv[2]);
const listeners = {};
const box = { dataset: data, classList: { add(c) { box.cls = c; }, remove() {} } };
const result = { textContent: "" };
globalThis.window = { crypto: require("crypto").webcrypto, TextEncoder: TextEncoder };
globalThis.document = {
  addEventListener: (name, f) => { listeners[name] = f; },
  getElementById: (id) => (id === "auditlog-verify" ? box : result),
};
eval(fs.readFileSync(process.argv[1], "utf8"));
listeners.DOMContentLoaded();
setTimeout(() => console.log(JSON.stringify({ text: result.textContent, cls: box.cls })), 300);
"""


def _run_verify_js(dataset: dict) -> dict:
    import json
    import shutil
    import subprocess

    import pytest

    from charity import ROOT

    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is required under CI to run static/js/verify.js")
        pytest.skip("node is not installed")
    result = subprocess.run(
        [node, "-e", NODE_HARNESS, str(ROOT / "static" / "js" / "verify.js"), json.dumps(dataset)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(result.stdout)


def test_verify_js_recomputes_leaf_and_root(db_session, append_synthetic) -> None:  # type: ignore[no-untyped-def]
    from charity.auditlog import store
    from charity.models import AuditEntry

    append_synthetic(13)
    leaf, path, root = store.inclusion_bundle(db_session, 6, 13)
    dataset = {
        "payload": db_session.get(AuditEntry, 6).payload,
        "leafHash": leaf.hex(),
        "index": "6",
        "treeSize": "13",
        "root": root.hex(),
        "path": ",".join(p.hex() for p in path),
        "msgOk": "OK",
        "msgLeaf": "LEAF",
        "msgRoot": "ROOT",
        "msgChecking": "...",
        "msgUnsupported": "NO",
    }
    assert _run_verify_js(dataset) == {"text": "OK", "cls": "verify-ok"}
    assert (
        _run_verify_js({**dataset, "payload": dataset["payload"].replace("测试", "测")})["text"]
        == "LEAF"
    )
    assert _run_verify_js({**dataset, "index": "7"})["text"] == "ROOT"
