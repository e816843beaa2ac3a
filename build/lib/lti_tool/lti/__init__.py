"""The protocol edge: the only package that imports pylti1p3."""
