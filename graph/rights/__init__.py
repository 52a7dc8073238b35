"""Subjects' rights in the graph: objections, complaints and reports, credit repair applications,
public commitments, the evidence filed with them, and what each unit has overdue."""
