"""Tests for handlers/http/ (same layout as the source)."""
