"""Multi-factor authentication: TOTP authenticators, recovery codes and login challenges."""
