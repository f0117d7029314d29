"""The projector: turns the GX chaincode's committed events into PostgreSQL read models."""
