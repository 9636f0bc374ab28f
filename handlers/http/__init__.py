"""HTTP plumbing between ASGI and the handlers: middleware, served documents, request context."""
