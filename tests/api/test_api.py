"""The public API: only public rows, filters, cursors, caching, CORS and the error shape."""

from __future__ import annotations

import json

import pytest

from tests.support.factories import OrganizationFactory


def _get(client, path: str, **headers):  # type: ignore[no-untyped-def]
    response = client.get(path, headers=headers)
    return response, response.get_json()


def _ids(body) -> list[int]:  # type: ignore[no-untyped-def]
    return [item["id"] for item in body["items"]]


# --- organizations --------------------------------------------------------------------------


def test_only_verified_organizations_are_listed(client, public_data):
    response, body = _get(client, "/api/v1/organizations")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    ids = _ids(body)
    assert public_data.qualified.id in ids and public_data.plain.id in ids
    assert public_data.pending.id not in ids
    assert body["next_cursor"] is None


def test_organization_fields(client, public_data):
    org = public_data.qualified
    _, body = _get(client, f"/api/v1/organizations/{org.id}")
    assert body["name"] == "广州市越秀区慈善会"
    assert body["uscc"] == org.uscc
    assert body["type"] == "foundation"
    assert body["qualified"] is True
    assert body["qualification"]["number"] == org.qualification_number
    assert body["qualification"]["date"] == "2024-03-01"
    assert "contact_phone" not in body and "stripe_account_id" not in body


def test_a_pending_organization_is_not_found(client, public_data):
    response, body = _get(client, f"/api/v1/organizations/{public_data.pending.id}")
    assert response.status_code == 404
    assert body["error"]["code"] == "not_found"
    assert set(body["error"]) >= {"code", "message"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("province=北京市", ["plain"]),
        ("type=foundation", ["qualified"]),
        ("qualified=true", ["qualified"]),
        ("qualified=false", ["plain"]),
        ("q=朝阳", ["plain"]),
        ("q=越秀&qualified=true&province=广东省", ["qualified"]),
        ("q=100%", []),  # LIKE wildcards are literal
    ],
)
def test_organization_filters(client, public_data, query, expected):
    _, body = _get(client, f"/api/v1/organizations?{query}")
    assert _ids(body) == [getattr(public_data, name).id for name in expected]


def test_search_by_exact_uscc(client, public_data):
    _, body = _get(client, f"/api/v1/organizations?q={public_data.plain.uscc.lower()}")
    assert _ids(body) == [public_data.plain.id]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("province=Atlantis", "province"),
        ("type=company", "type"),
        ("qualified=yes", "qualified"),
        ("q=", "q"),
        ("q=" + "x" * 101, "q"),
        ("q=%00", "q"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("limit=１０", "limit"),  # fullwidth digits
        ("limit=abc", "limit"),
        ("cursor=garbage", "cursor"),
    ],
)
def test_bad_parameters_are_400_with_the_error_shape(client, public_data, query, parameter):
    response, body = _get(client, f"/api/v1/organizations?{query}")
    assert response.status_code == 400
    assert body == {
        "error": {"code": "invalid_parameter", "message": body["error"]["message"],
                  "parameter": parameter}
    }  # fmt: skip


# --- pagination -----------------------------------------------------------------------------


def test_cursor_pagination_walks_every_row_once(client, db_session):
    created = [OrganizationFactory().id for _ in range(7)]
    seen: list[int] = []
    path = "/api/v1/organizations?limit=3"
    pages = 0
    while True:
        _, body = _get(client, path)
        pages += 1
        seen += _ids(body)
        if body["next_cursor"] is None:
            break
        path = f"/api/v1/organizations?limit=3&cursor={body['next_cursor']}"
    assert seen == sorted(created) and pages == 3


def test_rows_added_while_paging_are_not_skipped_or_repeated(client, db_session):
    first = [OrganizationFactory().id for _ in range(3)]
    _, page1 = _get(client, "/api/v1/organizations?limit=2")
    late = OrganizationFactory().id
    _, page2 = _get(client, f"/api/v1/organizations?limit=2&cursor={page1['next_cursor']}")
    assert _ids(page1) + _ids(page2) == [*first, late]


def test_a_cursor_is_bound_to_its_resource(client, db_session, public_data):
    for _ in range(2):
        OrganizationFactory()
    _, body = _get(client, "/api/v1/organizations?limit=1")
    response, error = _get(client, f"/api/v1/campaigns?cursor={body['next_cursor']}")
    assert response.status_code == 400 and error["error"]["parameter"] == "cursor"


def test_a_forged_cursor_is_rejected(client, public_data):
    import base64

    forged = base64.urlsafe_b64encode(b"0").decode().rstrip("=") + ".AAAA"
    response, _ = _get(client, f"/api/v1/organizations?cursor={forged}")
    assert response.status_code == 400


# --- caching and CORS -----------------------------------------------------------------------


def test_etag_and_if_none_match(client, public_data):
    response, _ = _get(client, "/api/v1/organizations")
    etag = response.headers["ETag"]
    assert response.headers["Cache-Control"] == "public, max-age=60"
    again = client.get("/api/v1/organizations", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    OrganizationFactory()  # the body changes, so does the tag
    changed = client.get("/api/v1/organizations", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_cors_for_get_without_credentials(client, public_data):
    response, _ = _get(client, "/api/v1/organizations", Origin="https://journalist.example")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Set-Cookie" not in response.headers


def test_preflight_allows_get_and_if_none_match_only(client, public_data):
    response = client.options(
        "/api/v1/campaigns",
        headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert response.headers["Access-Control-Allow-Headers"] == "If-None-Match"


def test_writes_are_refused_with_json_405(client, public_data):
    response = client.post("/api/v1/organizations", data={"name": "x"})
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "Access-Control-Allow-Origin" not in response.headers


def test_unknown_api_path_is_json_404(client, db_session):
    response, body = _get(client, "/api/v1/nothing-here")
    assert response.status_code == 404 and body["error"]["code"] == "not_found"


@pytest.mark.parametrize("item_id", ["0", "2147483648", "99999999999999999999999"])
def test_out_of_range_ids_are_404_not_500(client, db_session, item_id):
    response, body = _get(client, f"/api/v1/organizations/{item_id}")
    assert response.status_code == 404 and body["error"]["code"] == "not_found"


# --- campaigns and donations ----------------------------------------------------------------


def test_campaigns_are_public_ones_of_verified_organizations(client, public_data):
    _, body = _get(client, "/api/v1/campaigns")
    assert _ids(body) == [public_data.campaign.id]
    response, _ = _get(client, f"/api/v1/campaigns/{public_data.draft.id}")
    assert response.status_code == 404


def test_campaign_totals_are_net_of_refunds_and_skip_failed_gifts(client, public_data):
    _, body = _get(client, f"/api/v1/campaigns/{public_data.campaign.id}")
    assert body["raised_fen"] == 10_000 + 20_000 + 4_000
    assert body["donation_count"] == 3
    assert body["filing_number"] == public_data.campaign.filing_number
    _, listed = _get(client, f"/api/v1/campaigns?organization={public_data.qualified.id}")
    assert listed["items"][0]["raised_fen"] == 34_000


def test_donor_wall_names_only_consenting_donors_and_no_personal_data(client, public_data):
    response, body = _get(client, f"/api/v1/donations?campaign={public_data.campaign.id}")
    by_id = {item["id"]: item for item in body["items"]}
    assert set(by_id) == {public_data.named.id, public_data.anonymous.id,
                          public_data.refunded_part.id}  # fmt: skip
    assert by_id[public_data.named.id]["donor_name"] == "李雷"
    assert by_id[public_data.anonymous.id]["donor_name"] is None
    assert by_id[public_data.refunded_part.id]["amount_fen"] == 4_000
    text = response.get_data(as_text=True)
    for secret in ("韩梅梅", "wang.private@example.org", "5a" * 32, "c0" * 32, "王小明"):
        assert secret not in text
    assert _ids(body) == sorted(_ids(body), reverse=True)  # newest first


def test_donations_of_unverified_organizations_are_hidden(client, public_data):
    _, body = _get(client, f"/api/v1/donations?campaign={public_data.pending_campaign.id}")
    assert body["items"] == []


# --- the document and the docs page ---------------------------------------------------------


def test_openapi_document_covers_every_api_route(app, client, db_session):
    response, document = _get(client, "/api/v1/openapi.json")
    assert document["openapi"] == "3.1.0"
    served = {
        rule.rule.replace("<int:item_id>", "{id}")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint.startswith("api_v1.")
    }
    assert served - {"/api/v1/openapi.json"} == set(document["paths"]) - _log_paths(document)
    assert "ETag" in response.headers


def _log_paths(document) -> set[str]:  # type: ignore[no-untyped-def]
    return {path for path in document["paths"] if path.startswith("/api/v1/log/")}


def test_log_operations_are_documented_only_when_served(app, client, db_session):
    _, document = _get(client, "/api/v1/openapi.json")
    served = {rule.rule for rule in app.url_map.iter_rules()}
    assert _log_paths(document) == {p for p in served if p.startswith("/api/v1/log/")} & {
        "/api/v1/log/checkpoint", "/api/v1/log/key", "/api/v1/log/entries",
        "/api/v1/log/proof/inclusion", "/api/v1/log/proof/consistency",
    }  # fmt: skip


def test_every_declared_field_is_in_the_schema_and_the_example(client, public_data):
    _, document = _get(client, "/api/v1/openapi.json")
    _, org = _get(client, f"/api/v1/organizations/{public_data.qualified.id}")
    schema = document["components"]["schemas"]["Organization"]
    assert set(schema["properties"]) == set(org) == set(schema["required"])


def test_docs_page_lists_every_operation_without_inline_code(client, db_session):
    _, document = _get(client, "/api/v1/openapi.json")
    page = client.get("/api/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for path, methods in document["paths"].items():
        for operation in methods.values():
            assert f'id="{operation["operationId"]}"' in html
        assert path in html
    assert "<script>" not in html and "style=" not in html  # no inline code (strict CSP)
    assert html.count("<script") == html.count('<script src="/static/')
    assert "limit" in html and "next_cursor" in html


def test_document_is_plain_json_generated_per_app(client, db_session):
    response = client.get("/api/v1/openapi.json")
    assert json.loads(response.get_data(as_text=True))["info"]["title"]


def test_campaign_updates_of_public_campaigns_only(client, public_data, db_session):
    from charity.models import CampaignUpdate
    from charity.models.base import utcnow

    shown = CampaignUpdate(
        campaign=public_data.campaign, title="进展一", body_md="**第一批**", posted_at=utcnow()
    )
    hidden = CampaignUpdate(
        campaign=public_data.pending_campaign, title="不公开", body_md="x", posted_at=utcnow()
    )
    db_session.add_all([shown, hidden])
    db_session.flush()
    _, body = _get(client, "/api/v1/campaign_updates")
    assert _ids(body) == [shown.id]
    assert body["items"][0]["body_md"] == "**第一批**"
    response, _ = _get(client, f"/api/v1/campaign_updates/{hidden.id}")
    assert response.status_code == 404


def test_disclosures_show_the_current_version_of_verified_organizations(client, compliance_data):
    _, body = _get(client, "/api/v1/disclosures")
    assert _ids(body) == [compliance_data["shown"].id]
    item = body["items"][0]
    assert item["latest_version"] == 2 and item["title"] == "2024 年度工作报告 v2"
    assert item["content_hash"] == "02" * 32
    response, _ = _get(client, f"/api/v1/disclosures/{compliance_data['hidden'].id}")
    assert response.status_code == 404


def test_obligations_with_their_status_today(client, compliance_data, public_data):
    _, body = _get(client, f"/api/v1/obligations?organization={public_data.qualified.id}")
    by_id = {item["id"]: item["status"] for item in body["items"]}
    assert by_id == {compliance_data["on_time"].id: "on_time",
                     compliance_data["overdue"].id: "overdue"}  # fmt: skip
    _, overdue = _get(client, "/api/v1/obligations?status=overdue")
    assert _ids(overdue) == [compliance_data["overdue"].id]


def test_funds_of_verified_hosts(client, public_data, db_session):
    from tests.support.factories import FundFactory

    shown = FundFactory(organization=public_data.qualified)
    hidden = FundFactory(organization=public_data.pending)
    _, body = _get(client, "/api/v1/funds")
    assert _ids(body) == [shown.id]
    assert body["items"][0]["restriction"] == shown.restriction
    assert _get(client, f"/api/v1/funds/{hidden.id}")[0].status_code == 404
