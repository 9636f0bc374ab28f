"""Bulk and CSV lead imports: upload, chunk storage, the import job, row checks, CSV format."""
