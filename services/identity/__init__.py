"""The identity service: accounts, sessions, signing keys and KYC."""
