"""Sessions: signing in (login, refresh, logout), refresh tokens, the browser cookie
session, the sessions a user sees and ends, revocation and login throttling."""
