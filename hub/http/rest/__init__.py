"""The REST endpoints, for what GraphQL does not carry: files in (archives, court documents),
files out (network exports, recommendation letters, the caller's contract) and partners'
feedback."""
