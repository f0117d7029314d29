"""The edge's HTTP filters, one module per job, and the chain that orders them (`chain.http_filters`)."""
