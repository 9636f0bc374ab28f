"""Idempotency-Key replays: the stored reply for a repeated request, sealed at rest."""
