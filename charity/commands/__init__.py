"""CLI wiring: each feature contributes a click group."""

from __future__ import annotations

from importlib import import_module

from flask import Flask

#: "module:attribute" of click groups/commands to add to ``flask``.
COMMANDS: list[str] = [
    "charity.commands.users:users",
    "charity.commands.demo:demo",
    "charity.commands.campaigns:campaigns",
    "charity.commands.compliance:compliance",
    "charity.commands.ledger:ledger",
    "charity.commands.audit:audit",
    "charity.commands.jobs:jobs",
    "charity.commands.payments:payments",
]


def init_app(app: Flask) -> None:
    for spec in COMMANDS:
        module_name, attribute = spec.split(":")
        app.cli.add_command(getattr(import_module(module_name), attribute))
