"""A regulator's journey: the compliance dashboard, a region filter, a CSV download."""

from __future__ import annotations

import csv
import io

from tests.browser.helpers import log_in, screenshot

PROVINCE = "广东省"


def test_dashboard_filtered_by_region_and_exported_as_csv(new_context, live_server):  # type: ignore[no-untyped-def]
    page = new_context().new_page()
    log_in(page, live_server, "admin@demo.charity")  # an unscoped reader may pick a region
    page.goto(live_server.path("regulator.index"))
    assert page.locator("main h1").count() == 1
    assert PROVINCE not in page.locator("main > p").first.inner_text()  # all regions

    region = page.locator("main form select[name=province]")
    if region.count():  # the dashboard's own filter control
        region.select_option(label=PROVINCE)
        with page.expect_navigation():
            page.locator("main form [type=submit]").first.click()
    else:  # the filter is the ?province= parameter that the dashboard's links carry
        page.goto(live_server.path("regulator.index", province=PROVINCE))
    assert PROVINCE in page.locator("main > p").first.inner_text()
    screenshot(page, "regulator-filtered")

    section = page.locator("section[aria-labelledby='t-by_region']")
    # The export for people (headings in words, yuan); the machine-readable one is separate.
    csv_link = section.locator("a[href*='.csv']:not([href*='.machine.'])")
    assert f"province={PROVINCE}" in _unquote(csv_link.get_attribute("href"))
    with page.expect_download() as download_info:
        csv_link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(_read(download).lstrip("\ufeff"))))
    header, data = rows[0], rows[1:]
    assert header and data, rows
    assert header[0] == "地区" and "按时公开率" in header, header  # words, not codes
    assert all(PROVINCE in ",".join(row) for row in data), data


def _read(download) -> str:  # type: ignore[no-untyped-def]
    with open(download.path(), encoding="utf-8") as handle:
        return handle.read()


def _unquote(href: str) -> str:
    from urllib.parse import unquote

    return unquote(href)
