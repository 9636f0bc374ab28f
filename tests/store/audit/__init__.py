"""Tests for store/audit/ (same layout as the source)."""
