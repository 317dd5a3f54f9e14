"""HTTP plumbing shared by every context's router: the envelope, schemas and dependencies."""
