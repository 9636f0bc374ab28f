"""Tests for store/idempotency/ (same layout as the source)."""
