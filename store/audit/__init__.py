"""The audit log: who did what, written beside each change and listed for admins."""
