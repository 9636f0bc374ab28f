"""Tests for store/limits/ (same layout as the source)."""
