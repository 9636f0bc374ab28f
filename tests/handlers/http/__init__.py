"""Tests of handlers.http."""
