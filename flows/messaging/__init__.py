"""Outgoing email and text messages: over SMTP and Twilio when configured, else the outbox."""
