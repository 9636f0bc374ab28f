"""API keys: issue, rotate, revoke and resolve the hashed credentials."""
