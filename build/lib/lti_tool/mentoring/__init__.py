"""Mentoring: the cohort, sessions, goals and action plans."""
