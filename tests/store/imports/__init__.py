"""Tests for store/imports/ (same layout as the source)."""
