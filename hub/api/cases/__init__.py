"""Cases over GraphQL: a matter's documents, transfers and their deadlines, court documents waiting for a person, typical cases."""  # noqa: E501
