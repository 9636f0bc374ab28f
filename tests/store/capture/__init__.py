"""Tests for store/capture/ (same layout as the source)."""
