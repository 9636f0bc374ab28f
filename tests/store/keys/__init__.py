"""Tests for store/keys/ (same layout as the source)."""
