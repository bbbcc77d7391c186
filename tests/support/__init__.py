"""Helpers and fixtures shared by several test packages (issue 19 part 6).

Test modules import shared code from here (or from tests.support.factories), never from another
test module or a conftest. Fixtures defined here are registered for the whole suite by
``pytest_plugins`` in tests/conftest.py.
"""
