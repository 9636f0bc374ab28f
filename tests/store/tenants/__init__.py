"""Tests for store/tenants/ (same layout as the source)."""
