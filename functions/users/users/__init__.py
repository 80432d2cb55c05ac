"""The users domain: accounts, roles, password hashes, refresh tokens, login throttling."""
