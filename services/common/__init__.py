"""The runtime every GX process shares: settings, logging, database, Redis, errors, auth, server."""
