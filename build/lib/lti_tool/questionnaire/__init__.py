"""The questionnaire feature: versioned instruments, scoring into profiles, and charts."""
