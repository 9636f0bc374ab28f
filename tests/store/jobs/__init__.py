"""Tests for store/jobs/ (same layout as the source)."""
