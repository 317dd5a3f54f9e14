"""The ordering bounded context."""
