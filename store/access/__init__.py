"""Who is calling: the principal a credential resolves to, and role scopes."""
