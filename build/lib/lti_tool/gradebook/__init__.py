"""Grades: the score outbox and its delivery to the LMS."""
