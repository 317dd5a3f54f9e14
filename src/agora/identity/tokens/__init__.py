"""Access tokens: signed JWTs, the signing key ring shared through the database, the
JWKS, and the authenticator that turns a token into a principal."""
