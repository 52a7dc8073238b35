"""Deny by default: every root field and every field of every API type has a policy entry."""

from __future__ import annotations

from graphql import GraphQLObjectType, GraphQLSchema

from hub.api.context import RootPolicy
from hub.api.schema import graphql_schema, schema
from policies.access import default_policy
from policies.principal import Clearance


def _object_types(graphql_schema: GraphQLSchema) -> dict[str, GraphQLObjectType]:
    return {
        name: t
        for name, t in graphql_schema.type_map.items()
        if isinstance(t, GraphQLObjectType)
        and not name.startswith("__")
        and name not in ("Query", "Mutation")
    }


def test_every_root_field_has_a_policy_and_the_guard() -> None:
    """Queries and mutations alike: a root field without an entry, or without the guard,
    fails here."""
    policy = default_policy()
    query, mutation = graphql_schema().query_type, graphql_schema().mutation_type
    assert query is not None and mutation is not None
    roots = set(query.fields) | set(mutation.fields)
    assert roots and roots == set(policy.root_fields), "root fields and access.yaml differ"
    for root in (schema.query, schema.mutation):
        for definition in root.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            assert RootPolicy in definition.permission_classes, definition.name


def test_every_field_of_every_type_has_a_class() -> None:
    policy = default_policy()
    types = _object_types(graphql_schema())
    assert types and set(types) == set(policy.fields), "API types and access.yaml differ"
    for name, graphql_type in types.items():
        assert set(graphql_type.fields) == set(policy.fields[name]), name


def _guarded(type_name: str) -> dict[str, bool]:
    """GraphQL field name → whether it is computed by a resolver (where _guard runs)."""
    definition = schema.get_type_by_name(type_name)
    assert definition is not None and hasattr(definition, "fields")
    converter = schema.config.name_converter
    return {converter.get_graphql_name(f): f.base_resolver is not None for f in definition.fields}


def test_fields_above_public_are_guarded_and_nullable() -> None:
    """A field above PUBLIC is a guarded resolver, or sits in a type reached only through one."""
    policy = default_policy()
    types = _object_types(graphql_schema())
    assert policy.fields, "access.yaml classes no field"
    assert any(c is not Clearance.PUBLIC for f in policy.fields.values() for c in f.values())
    for type_name, fields in policy.fields.items():
        for field, needed in fields.items():
            if needed is Clearance.PUBLIC:
                continue
            if _guarded(type_name)[field]:
                assert not str(types[type_name].fields[field].type).endswith("!"), field
                continue
            parents = [
                (parent, name)
                for parent, t in types.items()
                for name, f in t.fields.items()
                if str(f.type).strip("[]!") == type_name
            ]
            assert parents, f"{type_name}.{field} is above PUBLIC and unguarded"
            for parent, name in parents:
                assert _guarded(parent)[name], f"{parent}.{name} must guard {type_name}"
                assert policy.fields[parent][name] >= needed, f"{parent}.{name} class too low"
