"""The test harness: the servers, stand-ins and fixtures the test suite (and bench/)
run the ledger and the onboarding flows with.

A pytest plugin made of modules: tests/conftest.py loads the fixture modules
(``harness.ledger_fixtures``, ``harness.messaging_fixtures``,
``harness.system_fixtures``) through ``pytest_plugins``; the other modules are plain
helpers. Only ``databases``, ``ledger_app`` and ``ledger_fixtures`` import the
ledger's code (``api``): the rest runs in an environment without it, where the
ledger is a child process (``ledger_process``).
"""
