"""Access: user administration, API keys, and the check of privileged credentials
against the account's current role and activation."""
