"""Helpers shared by the test suites: launchers for real PostgreSQL, Redis, Envoy and GX processes."""
