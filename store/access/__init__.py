"""Who a caller is and how much it may do: principals, roles and the power invariant."""
