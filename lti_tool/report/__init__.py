"""Documents to keep: the learner's profile and development plan as PDF files."""
