"""The test harness, as a pytest plugin: fixtures and real stand-ins shared by the test suites."""
