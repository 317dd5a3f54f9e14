"""Notifications: email to users, through a mail port (SMTP, or a local development mailbox)."""
