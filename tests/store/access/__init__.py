"""Tests for store/access: the power invariant."""
