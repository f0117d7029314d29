"""The outbox worker: submits the ledger commands services record, exactly once in effect."""
