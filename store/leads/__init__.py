"""Leads: the create/update/delete lifecycle, field rules, queries, custom-field schema, export."""
