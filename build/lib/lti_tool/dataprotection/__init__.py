"""Data protection: the audit log of mentors' access, export, erasure and retention."""
