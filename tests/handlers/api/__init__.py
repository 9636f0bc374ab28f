"""Tests for handlers/api/ (same layout as the source)."""
