"""The GraphQL API: types and resolvers by domain, the request context, document guards."""
