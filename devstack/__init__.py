"""The pip-only local mesh: PostgreSQL, Redis, Envoy and every GX process, started from one state directory."""
