"""HTTP plumbing shared by the API handlers: context, envelope, errors, headers."""
