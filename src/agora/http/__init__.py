"""The REST API edge: middleware, error mapping, docs and health endpoints."""
