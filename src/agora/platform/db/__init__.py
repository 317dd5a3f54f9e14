"""Everything SQL the contexts share: metadata and types, engines, the unit of work,
the outbox and idempotency tables, migrations and the schema diagram."""
