"""Tests for handlers/cli/ (same layout as the source)."""
