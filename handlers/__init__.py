"""HTTP layer: Connexion routes validated requests to the plain functions in this package."""
