"""Webhook endpoints and the signed, retried, SSRF-safe delivery of events to them."""
