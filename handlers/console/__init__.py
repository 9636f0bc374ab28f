"""The web console: static files served at /console/, a client of the public /v1 API only."""
