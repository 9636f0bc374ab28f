"""Tests for store/leads/ (same layout as the source)."""
