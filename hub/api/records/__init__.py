"""Credit records over GraphQL: submission, review, corrections, archive imports, the assessment
of units, listing cases and the abnormal list.

Who may call each field is in policies/access.yaml (RootPolicy); what a unit may touch is its
jurisdiction, derived from its unit code (``NMG`` + division). Every step is audited.
"""
