"""Tests for store/duplicates/ (same layout as the source)."""
