"""charity: a public charity fundraising platform with a verifiable audit log."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: object) -> Flask:
    """Build the application (charity/app.py). Wiring only: no database work, no network,
    no prompts."""
    # Imported here: every `import charity.x` runs this file, and must not load the whole app.
    from charity.app import create_app as build

    return build(config)
