"""HTTP handlers of the /v1 API, one module per resource (Connexion routes operationIds here)."""
