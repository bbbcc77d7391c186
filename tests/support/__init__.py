"""Helpers and fixtures shared by several test packages (issue 19 part 6).

Test modules import shared code from here, never from another test module or a conftest
(tests/test_test_layout.py checks). ``factories.py`` has a factory per model tests build,
``dbutil.py`` the test database, and one module per area its helpers. Fixtures several areas
use are registered for the whole suite by ``pytest_plugins`` in tests/conftest.py.
"""
