"""The `gx` operator command line."""
