from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_it_reports_database_and_broker_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_it_answers_503_when_the_broker_is_down(client, settings):
    from pathway.celery import app

    # A port nothing listens on: the broker check must fail fast, not hang.
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = settings.CELERY_BROKER_URL
    assert response.status_code == 503
    assert response.json()["broker"] == "error"
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_it_answers_503_when_the_database_is_down(client, monkeypatch):
    from pathway.web import site as views

    monkeypatch.setattr(views.connection, "cursor", lambda: (_ for _ in ()).throw(RuntimeError("db down")))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error"
