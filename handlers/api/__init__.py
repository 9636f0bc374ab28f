"""API endpoints: the functions the spec routes each operationId to, and their presenters."""
