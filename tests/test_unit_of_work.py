"""One unit of work per request (charity.core.uow): the hook commits when the view returns,
rolls back when it raises; effects queued with ``after_commit`` go out once, after the
commit, and never after a rollback. Views never commit or roll back by hand."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, abort

import config
from charity import ROOT, create_app
from charity.core import uow
from charity.extensions import db
from charity.models import User

#: Modules whose functions are views (or build responses): none may end a transaction.
VIEW_PACKAGES = ("charity/blueprints", "charity/api")


def _view_modules() -> list[Path]:
    return sorted(path for folder in VIEW_PACKAGES for path in (ROOT / folder).rglob("*.py"))


def _hand_made_transaction_ends(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ("commit", "rollback", "commit_with_receipts"):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}()")
    return found


def test_no_view_commits_or_rolls_back_by_hand():
    modules = _view_modules()
    assert len(modules) > 20  # the scan really sees the blueprints
    found = [line for path in modules for line in _hand_made_transaction_ends(path)]
    assert found == [], "views end no transaction; the unit of work does:\n" + "\n".join(found)


def test_the_scan_finds_a_hand_made_commit(tmp_path, monkeypatch):
    monkeypatch.setattr("tests.test_unit_of_work.ROOT", tmp_path)
    view = tmp_path / "view.py"
    view.write_text("def v():\n    db.session.commit()\n    rollback()\n", encoding="utf-8")
    assert _hand_made_transaction_ends(view) == ["view.py:2 commit()", "view.py:3 rollback()"]


def test_nothing_travels_through_session_info():
    uses = [
        f"{path.relative_to(ROOT)}"
        for path in (ROOT / "charity").rglob("*.py")
        if "session.info" in path.read_text(encoding="utf-8")
        and path.parts[-2:] not in {("web", "replicas.py"), ("core", "replicas.py")}
    ]
    assert uses == []


@pytest.fixture
def effects_app(database_url: str, db_session) -> Flask:  # type: ignore[no-untyped-def]
    """An app of its own with views that queue an effect, write a row, then end three ways."""
    application = create_app(config.TestingConfig(database_url))
    sent: list[str] = []
    application.config["SENT"] = sent

    def write_and_queue(name: str) -> None:
        db.session.add(User(email=f"{name}@example.org", name=name, password_hash="x"))
        uow.after_commit(lambda: sent.append(name))

    @application.post("/returns")
    def returns():  # type: ignore[no-untyped-def]
        write_and_queue("returns")
        return "ok"

    @application.post("/raises")
    def raises():  # type: ignore[no-untyped-def]
        write_and_queue("raises")
        raise RuntimeError("the service failed after queueing")

    @application.post("/aborts")
    def aborts():  # type: ignore[no-untyped-def]
        write_and_queue("aborts")
        abort(409)

    @application.post("/domain-error")
    def domain_error():  # type: ignore[no-untyped-def]
        write_and_queue("domain-error")
        uow.discard()  # what a view does when it shows a domain error as a form error
        return "shown to the user", 400

    yield application
    with application.app_context():
        db.engine.dispose()


def _users(name: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.email == f"{name}@example.org")
    )


def test_a_view_that_returns_commits_and_dispatches_its_effect_once(effects_app):
    client = effects_app.test_client()
    assert client.post("/returns").status_code == 200
    assert effects_app.config["SENT"] == ["returns"]
    assert _users("returns") == 1
    client.post("/domain-error")  # a later request does not dispatch it again
    assert effects_app.config["SENT"] == ["returns"]


@pytest.mark.parametrize(("path", "status"), [("/raises", 500), ("/aborts", 409)])
def test_an_effect_queued_in_a_request_that_fails_is_never_dispatched(effects_app, path, status):
    effects_app.config["PROPAGATE_EXCEPTIONS"] = False
    client = effects_app.test_client()
    assert client.post(path).status_code == status
    assert effects_app.config["SENT"] == []
    assert _users(path.strip("/")) == 0
    client.post("/returns")  # nor by the next request's commit
    assert effects_app.config["SENT"] == ["returns"]


def test_a_domain_error_shown_to_the_user_rolls_back_and_drops_the_effect(effects_app):
    client = effects_app.test_client()
    assert client.post("/domain-error").status_code == 400
    assert effects_app.config["SENT"] == []
    assert _users("domain-error") == 0


def test_a_failing_effect_does_not_undo_the_commit_nor_stop_the_others(app, db_session, caplog):
    ran = []

    def broken() -> None:
        raise OSError("the mail server is down")

    with uow.unit_of_work():
        db.session.add(User(email="kept@example.org", name="kept", password_hash="x"))
        uow.after_commit(broken)
        uow.after_commit(lambda: ran.append("after"))
    assert ran == ["after"] and _users("kept") == 1
    assert "after-commit effect" in caplog.text


def test_an_effect_queued_in_a_savepoint_that_rolls_back_is_dropped(app, db_session):
    """A webhook applies each event in a savepoint: a refund undone there must not mail,
    while what was queued outside it (or in a savepoint that was released) still goes."""
    ran: list[str] = []
    with uow.unit_of_work():
        uow.after_commit(lambda: ran.append("outside"))
        with db.session.begin_nested():
            uow.after_commit(lambda: ran.append("released"))
        with pytest.raises(ValueError), db.session.begin_nested():
            db.session.add(User(email="undone@example.org", name="undone", password_hash="x"))
            uow.after_commit(lambda: ran.append("rolled back"))
            with db.session.begin_nested():
                uow.after_commit(lambda: ran.append("inside the rolled-back one"))
            raise ValueError("the event cannot apply")
        uow.after_commit(lambda: ran.append("after it"))
    assert ran == ["outside", "released", "after it"]
    assert _users("undone") == 0


def test_a_released_savepoint_is_not_a_commit(app, db_session):
    """SQLAlchemy reports a savepoint's release as a commit: its effects wait for the real
    commit, and a rollback of the transaction around it drops them."""
    ran: list[str] = []
    with pytest.raises(RuntimeError), uow.unit_of_work():
        with db.session.begin_nested():
            uow.after_commit(lambda: ran.append("released, then rolled back"))
        raise RuntimeError("the unit of work fails after the savepoint")
    with uow.unit_of_work():
        pass  # a later commit does not send it either
    assert ran == []
