"""HTTP plumbing: request context, body limit, security, validation, idempotency, rate limits, errors."""
