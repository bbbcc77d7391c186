from __future__ import annotations

import pytest

from config import ConfigError, ProductionConfig


def test_home_page_is_chinese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="zh-Hans"' in response.get_data(as_text=True)


def test_english_is_one_click_away(client):
    response = client.get("/lang/en?next=/", follow_redirects=True)
    assert 'lang="en"' in response.get_data(as_text=True)


def test_language_switch_is_not_an_open_redirect(client):
    response = client.get("/lang/en?next=//evil.example/")
    assert response.headers["Location"] == "/"


def test_security_headers(client):
    headers = client.get("/").headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_friendly_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "404" in response.get_data(as_text=True)


def test_api_errors_are_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("missing", ProductionConfig.REQUIRED)
def test_production_refuses_to_start_without_secrets(monkeypatch, missing):
    for name in ProductionConfig.REQUIRED:
        monkeypatch.setenv(name, "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/charity")
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigError, match=missing):
        ProductionConfig()


def test_production_needs_an_smtp_host_for_mail(monkeypatch):
    for name in ProductionConfig.REQUIRED:
        monkeypatch.setenv(name, "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/charity")
    monkeypatch.delenv("SMTP_HOST", raising=False)
    monkeypatch.delenv("MAIL_BACKEND", raising=False)
    with pytest.raises(ConfigError, match="SMTP_HOST"):
        ProductionConfig()
