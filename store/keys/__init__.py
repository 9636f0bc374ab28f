"""API keys: minting, authentication, listing, revocation and rotation."""
