"""People who sign in: accounts, password hashing, sessions and the sign-in throttle."""
