"""Tests for store/users/ (same layout as the source)."""
