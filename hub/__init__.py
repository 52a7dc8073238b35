"""The application: settings, the GraphQL API, the HTTP layer, the portal, the command line."""
