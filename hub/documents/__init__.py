"""Printable documents in Chinese, rendered as PDF: letters and certificates."""
