"""The life of a credit record: submission, review, corrections, publication, listings."""
