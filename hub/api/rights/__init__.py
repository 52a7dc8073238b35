"""GraphQL of subjects' rights: objections, complaints, repair applications, commitments and the
subject's own archive."""
