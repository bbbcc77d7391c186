"""WSGI entry point: ``gunicorn wsgi:app``. CHARITY_ENV selects the configuration."""

from charity import create_app
from config import load_config

app = create_app(load_config())
