"""Investigators' GraphQL fields, one module per traversal of graph/investigate.py.

Only the roles access.yaml lists may call them (partners get FORBIDDEN); every traversal keeps
subjects above the caller's clearance off its paths and is audited with what it released.
"""
