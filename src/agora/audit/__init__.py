"""The audit context: an append-only, hash-chained record of security and admin actions."""
