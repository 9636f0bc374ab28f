"""Tenant lifecycle: create a tenant with its owner and first keys, count them."""
