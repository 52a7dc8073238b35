"""The portal's pages of subjects' rights: sign-in, the subject's archive, objections, complaints,
repair, commitments."""
