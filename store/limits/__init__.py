"""Plans and what they allow: rate limits per plan and the lead quota counters."""
