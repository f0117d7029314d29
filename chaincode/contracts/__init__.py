"""The GX contracts, one per domain; each function takes and returns proto JSON."""
