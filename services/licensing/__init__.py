"""The licensing service: partners, licences, API keys and usage (gx.licensing.v1)."""
