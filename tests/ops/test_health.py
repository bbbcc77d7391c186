"""/healthz checks the database and (when configured) Redis; 503 when one fails."""

from __future__ import annotations

from tests.support.ops import free_port


def test_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert "redis" not in body["checks"]  # the embedded default has no Redis
    assert response.headers["Cache-Control"] == "no-store"


def test_healthy_with_redis(make_app, redis_url):
    response = make_app(REDIS_URL=redis_url).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["redis"]["status"] == "ok"


def test_redis_down_is_503(make_app):
    down = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", HEALTH_TIMEOUT_SECONDS=0.5)
    response = down.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "fail"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"] == {
        "status": "fail",
        "error": "ConnectionError",
        "ms": body["checks"]["redis"]["ms"],
    }


def test_unreachable_postgresql_is_503_quickly(make_app):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    down = make_app(url, SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 1}})
    response = down.test_client().get("/healthz")
    assert response.status_code == 503
    check = response.get_json()["checks"]["database"]
    assert check["status"] == "fail"
    assert check["error"] == "OperationalError"
    assert check["ms"] < 2000


def test_unopenable_sqlite_is_503(make_app, tmp_path):
    down = make_app(f"sqlite:///{tmp_path}/missing-dir/db.sqlite3")
    response = down.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"]["status"] == "fail"
