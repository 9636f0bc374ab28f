"""Duplicate leads: the detection job, and listing/merging the pairs it finds."""
