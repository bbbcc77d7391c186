"""Schemathesis against the running app: every operation of /api/v1/openapi.json, valid and
invalid generated inputs, no 5xx, every response conforming to the document."""

from __future__ import annotations

from tests.api.fuzz import fuzz_app

#: Per operation and mode: enough for each parameter's boundaries and some combinations.
EXAMPLES = 15


def test_every_operation_conforms_to_the_document(app, public_data, compliance_data):
    labels, failures = fuzz_app(app, "/api/v1/openapi.json", EXAMPLES)
    assert "GET /api/v1/organizations" in labels and "GET /api/v1/campaigns/{id}" in labels
    assert not failures, "\n\n".join(failures)


# --- the harness can fail: a deliberately broken operation on a throwaway app -------------


def _broken_app(tmp_path):  # type: ignore[no-untyped-def]
    from flask import Blueprint, jsonify

    from charity import create_app
    from charity.api import fields as f
    from charity.api.catalog import ORGANIZATIONS
    from charity.api.openapi import build_document
    from charity.api.resources import Resource
    from charity.blueprints.api_v1 import add_resource_routes
    from charity.extensions import db
    from config import TestingConfig

    def explode(statement, value):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("a bug in a filter")

    crashing = Resource(
        name="crashing",
        schema_name="Crashing",
        summary="A filter with a bug",
        description="",
        model=ORGANIZATIONS.model,
        public=ORGANIZATIONS.public,
        fields=(f.integer("id", "Id."),),
        filters=(f.bool_filter("boom", "Crashes.", explode),),
        has_item=False,
    )
    lying = Resource(
        name="lying",
        schema_name="Lying",
        summary="Declares an integer name; serves a string",
        description="",
        model=ORGANIZATIONS.model,
        public=ORGANIZATIONS.public,
        fields=(f.integer("id", "Id."), f.integer("name", "Not really an integer.")),
        has_item=False,
    )
    broken = (crashing, lying)
    app = create_app(
        TestingConfig(f"sqlite:///{tmp_path / 'broken.sqlite3'}", PROPAGATE_TEST_ERRORS=False)
    )
    blueprint = Blueprint("api_broken", __name__)
    add_resource_routes(blueprint, broken)
    blueprint.add_url_rule(
        "/openapi.json", "doc", lambda: jsonify(build_document([], resources=broken))
    )
    app.register_blueprint(blueprint, url_prefix="/api/broken-test")
    # the generated paths are /api/v1/<name>: serve the resource there too
    app.register_blueprint(blueprint, url_prefix="/api", name="api_broken_v1")
    with app.app_context():
        db.create_all()
        from tests.support.factories import make_uscc

        db.session.add(ORGANIZATIONS.model(**_verified_org(make_uscc)))
        db.session.commit()
    return app


def _verified_org(make_uscc) -> dict:  # type: ignore[no-untyped-def]
    return {
        "name": "坏例子基金会", "uscc": make_uscc("3", 1), "org_type": "foundation",
        "registration_authority": "民政厅", "province": "广东省", "contact_name": "张",
        "contact_phone": "1", "contact_email": "a@example.org", "status": "verified",
    }  # fmt: skip


def test_a_broken_operation_makes_schemathesis_fail(tmp_path):
    app = _broken_app(tmp_path)
    try:
        labels, failures = fuzz_app(app, "/api/broken-test/openapi.json", 10)
    finally:
        from charity.extensions import db

        with app.app_context():
            db.engine.dispose()
    assert labels == ["GET /api/v1/crashing", "GET /api/v1/lying"]
    crashing = "\n".join(f for f in failures if f.startswith("GET /api/v1/crashing"))
    lying = "\n".join(f for f in failures if f.startswith("GET /api/v1/lying"))
    assert "Server error" in crashing  # the buggy filter: a 500
    assert "Response violates schema" in lying  # name is a string, not the declared integer
