"""The bench harness edits only its own section of docs/benchmarks.md."""

from __future__ import annotations

from bench.http_pages import MemorySample, WrkResult, render_section, write_section

INTRO = "# Benchmarks\n\nIntro.\n"


def test_creates_the_file_with_the_intro(tmp_path):
    doc = tmp_path / "benchmarks.md"
    write_section(doc, "http", "numbers v1", INTRO)
    assert doc.read_text() == INTRO + "\n<!-- bench:http -->\nnumbers v1\n<!-- /bench:http -->\n"


def test_replaces_its_section_and_keeps_the_others(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\nHand-written notes.\n\n"
        "<!-- bench:http -->\nold http numbers\n<!-- /bench:http -->\n\n"
        "Between the sections.\n\n"
        "<!-- bench:auditlog -->\naudit log numbers\n<!-- /bench:auditlog -->\n"
    )
    write_section(doc, "http", "new http numbers", INTRO)
    text = doc.read_text()
    assert "old http numbers" not in text
    assert "<!-- bench:http -->\nnew http numbers\n<!-- /bench:http -->" in text
    assert "Hand-written notes." in text
    assert "Between the sections." in text
    assert "<!-- bench:auditlog -->\naudit log numbers\n<!-- /bench:auditlog -->" in text


def test_appends_its_section_after_another_harness_wrote_first(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n<!-- bench:auditlog -->\nA\n<!-- /bench:auditlog -->\n")
    write_section(doc, "http", "H", INTRO)
    assert doc.read_text().endswith(
        "<!-- /bench:auditlog -->\n\n<!-- bench:http -->\nH\n<!-- /bench:http -->\n"
    )


def _result(name: str, rps: float) -> WrkResult:
    memory = MemorySample()
    memory.add(101, 80_000, 40_000)
    memory.add(102, 82_000, 42_000)
    return WrkResult(name, "/x", int(rps * 10), 10.0, rps, 5.0, 9.0, 20.0, 30.0, 0, 0, memory)


def test_the_section_quotes_ratios_to_the_ceiling():
    ceiling, page = _result("ceiling", 1000.0), _result("page", 620.0)
    text = render_section([ceiling, page], ceiling, ["a note"], ["setup line"])
    assert "| page | `/x` | 620 |  | 62% |" in text
    assert "| ceiling | 2 | 79.1 | 80.1 | 40.0 | 41.0 |" in text
    assert "- a note" in text


def test_the_profile_splits_sql_template_and_the_rest():
    from bench.http_pages import render_profile

    page = _result("page", 100.0)
    text = render_profile(
        {"/x": {"ms": 10.0, "queries": 5, "sql_ms": 6.0, "template_ms": 3.0}}, [page]
    )
    assert "| page | 10.00 | 5 | 6.00 | 3.00 | 1.00 |" in text
