"""The notifier worker: sends the messages recorded in `notify.messages` (email over SMTP; webhooks plug in)."""
