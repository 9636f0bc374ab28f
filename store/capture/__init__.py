"""Public lead capture from web forms: submissions, publishable keys and allowed origins."""
