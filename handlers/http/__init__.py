"""HTTP plumbing around the operations: metrics, request observation (more moves here in issue 10)."""
