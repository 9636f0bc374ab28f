"""HTTP tests of the API handlers (handlers/api/)."""
