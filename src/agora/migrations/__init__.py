"""Alembic migrations, shipped inside the package so an installed Agora can migrate itself."""
