"""The ``agora`` command line: serve, migrate, seed, create-admin."""
