"""The Starlette app: routes, authentication, request limits, metrics, pages outside GraphQL."""
