"""Persistence and the domain rules that guard Leadpipe's data.

Nothing in here knows about HTTP: callers pass plain values and get plain values or a
`store.errors.StoreError` back.
"""
