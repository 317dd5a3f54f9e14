"""Accounts: sign-up and the profile, email verification, password reset and change, the
password policy, and the pages the emailed links open."""
