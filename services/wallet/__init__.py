"""The wallet service: balances, history, transfers and system administration over the ledger's read models."""
