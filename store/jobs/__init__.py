"""The background job queue: enqueue, claim with a lease, progress, finish."""
