"""`flask users create-admin` and `flask users create-regulator`, through Flask's CliRunner."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from charity.models import User
from charity.services.accounts import verify_password

PASSWORD = "admin password 123"


@pytest.fixture
def run(app, db_session):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()

    def invoke(*args: str, **kwargs):  # type: ignore[no-untyped-def]
        return runner.invoke(args=["users", *args], **kwargs)

    return invoke


def _user(db_session, email: str) -> User | None:  # type: ignore[no-untyped-def]
    return db_session.scalar(select(User).where(User.email == email))


def _count(db_session) -> int:  # type: ignore[no-untyped-def]
    return db_session.scalar(select(func.count()).select_from(User))


def test_create_admin(run, db_session):
    result = run("create-admin", "--email", "Root@Example.org", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    assert "created admin root@example.org" in result.output
    user = _user(db_session, "root@example.org")
    assert user.platform_role == "admin" and user.regulator_province is None
    assert verify_password(user, PASSWORD)


def test_create_admin_prompts_for_the_password_twice(run, db_session):
    result = run(
        "create-admin", "--email", "prompted@example.org", input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert verify_password(_user(db_session, "prompted@example.org"), PASSWORD)


def test_create_regulator_scoped_to_a_province(run, db_session):
    result = run(
        "create-regulator",
        "--email",
        "mz@example.org",
        "--province",
        "广东省",
        "--password",
        PASSWORD,
    )
    assert result.exit_code == 0, result.output
    assert "province 广东省" in result.output
    user = _user(db_session, "mz@example.org")
    assert (user.platform_role, user.regulator_province) == ("regulator", "广东省")


def test_create_regulator_without_a_province_sees_everything(run, db_session):
    result = run("create-regulator", "--email", "national@example.org", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    assert _user(db_session, "national@example.org").regulator_province is None


def test_duplicate_email_is_a_clean_error(run, db_session):
    assert run("create-admin", "--email", "dup@example.org", "--password", PASSWORD).exit_code == 0
    before = _count(db_session)
    result = run("create-regulator", "--email", "DUP@example.org", "--password", PASSWORD)
    assert result.exit_code == 1
    assert "Error: email: An account with this email already exists." in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert _count(db_session) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create-admin", "--email", "not-an-email", "--password", PASSWORD], "valid email"),
        (["create-admin", "--email", "a@example.org", "--password", "short"], "at least 10"),
        (
            [
                "create-admin",
                "--email",
                "a@example.org",
                "--name",
                "<b>x</b>",
                "--password",
                PASSWORD,
            ],
            "< or >",
        ),
        (
            [
                "create-regulator",
                "--email",
                "a@example.org",
                "--province",
                "x" * 40,
                "--password",
                PASSWORD,
            ],
            "--province",
        ),
        (
            [
                "create-regulator",
                "--email",
                "a@example.org",
                "--province",
                "广东\x00省",
                "--password",
                PASSWORD,
            ],
            "--province",
        ),
    ],
)
def test_bad_input_is_a_clean_error(run, db_session, args, message):
    before = _count(db_session)
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert _count(db_session) == before
