"""The application factory: every extension, hook, blueprint and command put together.

``charity.create_app`` calls it; it lives apart from the package's ``__init__`` so that
importing one module of charity (the models, the standalone log verifier, a job) does not
load the whole application.
"""

from __future__ import annotations

import copy

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from charity import ROOT, commands, payments, wiring
from charity.blueprints import register_blueprints
from charity.core import uow
from charity.core.db import configure_engine_events
from charity.extensions import csrf, db, limiter, login_manager, migrate
from charity.ops import jobs, logs, metrics
from charity.web import (
    converters,
    errors,
    i18n,
    labels,
    links,
    log_words,
    navigation,
    ratelimits,
    replicas,
    security,
    templating,
)


def create_app(config: object) -> Flask:
    """Build the application. Wiring only: no database work, no network, no prompts."""
    app = Flask(
        "charity",
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
        instance_relative_config=False,
    )
    app.config.from_object(config)
    # Each app its own copy of the engine options: Flask-SQLAlchemy writes SQLite's
    # connect_args into the dict it is given, which a config class shares with every app
    # made from it (a PostgreSQL app made after an SQLite one got check_same_thread).
    for key in ("SQLALCHEMY_ENGINE_OPTIONS", "DATABASE_REPLICA_ENGINE_OPTIONS"):
        if key in app.config:
            app.config[key] = copy.deepcopy(app.config[key])

    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:  # the client's address and scheme as the proxies in front saw them
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    links.init_app(app)
    logs.init_app(app)
    metrics.init_app(app)
    db.init_app(app)
    uow.init_app(app)  # each request is one unit of work: commit, or roll back
    wiring.wire()  # subscribers, payload builders, webhook handlers: charity/wiring.py
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    ratelimits.init_app(app)  # per-address limit on pages and /api/v1/log
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    labels.init_app(app)
    log_words.init_app(app)
    navigation.init_app(app)
    jobs.init_app(app)
    payments.init_app(app)
    with app.app_context():
        configure_engine_events(db.engine, app.config.get("DB_POOL_PRE_PING", "socket"))
    converters.init_app(app)  # before the blueprints: <int:> ids stay in the database's range
    register_blueprints(app)
    replicas.init_app(app)  # after the blueprints: wraps the replica endpoints' views
    commands.init_app(app)
    return app
