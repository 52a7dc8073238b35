"""The API contract of a role: the SDL of what its callers can reach.

Partners may not introspect (policies/limits.yaml), so the hub publishes their contract instead:
the root fields access.yaml allows the role, the fields of the types reachable from them, less
the fields whose class is above the role's ceiling (those always answer null for it), and
nothing else. ``hub schema`` prints it, ``GET /schema.graphql`` serves it to a caller's token,
and docs/schema/ holds a copy per role that the tests hold to the code.
"""

from __future__ import annotations

from collections.abc import Iterable

from graphql import (
    DocumentNode,
    FieldDefinitionNode,
    GraphQLSchema,
    ObjectTypeDefinitionNode,
    TypeNode,
    build_ast_schema,
    parse,
    print_schema,
)
from graphql.language import ListTypeNode, NonNullTypeNode

from hub.api.schema import graphql_schema
from policies.access import AccessPolicy
from policies.principal import Clearance

ROOTS = ("Query", "Mutation")


def _named(type_node: TypeNode) -> str:
    while isinstance(type_node, NonNullTypeNode | ListTypeNode):
        type_node = type_node.type
    return str(type_node.name.value)  # type: ignore[attr-defined]


def _keep(
    type_name: str,
    field: FieldDefinitionNode,
    roots: frozenset[str],
    ceiling: Clearance,
    policy: AccessPolicy,
) -> bool:
    name = field.name.value
    if type_name in ROOTS:
        return name in roots
    needed = policy.fields.get(type_name, {}).get(name)
    return needed is None or needed <= ceiling


def _pruned(document: DocumentNode, keep: dict[str, set[str]]) -> DocumentNode:
    """The document with only the kept fields of object types, and no object type left empty."""
    definitions = []
    for definition in document.definitions:
        if isinstance(definition, ObjectTypeDefinitionNode):
            name = definition.name.value
            fields = tuple(f for f in definition.fields or () if f.name.value in keep[name])
            if not fields:
                continue
            definition = ObjectTypeDefinitionNode(
                name=definition.name,
                description=definition.description,
                interfaces=definition.interfaces,
                directives=definition.directives,
                fields=fields,
            )
        definitions.append(definition)
    return DocumentNode(definitions=tuple(definitions))


def role_schema(policy: AccessPolicy, roles: Iterable[str]) -> GraphQLSchema:
    """The schema callers with ``roles`` can reach; ``ValueError`` when it would be empty."""
    roles = frozenset(roles)
    unknown = roles - set(policy.roles)
    if not roles or unknown:
        raise ValueError(f"roles must be among {', '.join(sorted(policy.roles))}")
    allowed = frozenset(f for f, who in policy.root_fields.items() if who & roles)
    ceiling = max(policy.roles[r].max_clearance for r in roles)
    document = parse(print_schema(graphql_schema()))
    objects = [d for d in document.definitions if isinstance(d, ObjectTypeDefinitionNode)]
    keep = {
        o.name.value: {
            f.name.value for f in o.fields or () if _keep(o.name.value, f, allowed, ceiling, policy)
        }
        for o in objects
    }
    # A field whose object type lost every field goes too, until nothing more is emptied.
    while True:
        empty = {name for name, fields in keep.items() if not fields}
        changed = False
        for o in objects:
            for f in o.fields or ():
                name = f.name.value
                if name in keep[o.name.value] and _named(f.type) in empty:
                    keep[o.name.value].discard(name)
                    changed = True
        if not changed:
            break
    if not keep.get("Query"):
        raise ValueError(f"the roles {', '.join(sorted(roles))} may call no query")
    built = build_ast_schema(_pruned(document, keep))
    # Rebuilt from its roots, the schema holds only the types they reach.
    return GraphQLSchema(
        query=built.query_type,
        mutation=built.mutation_type,
        directives=built.directives,
        description=built.description,
    )


def role_sdl(policy: AccessPolicy, roles: Iterable[str]) -> str:
    """The contract of ``roles`` as SDL text, ending in a newline."""
    return print_schema(role_schema(policy, roles)) + "\n"


class Contracts:
    """Each set of roles' SDL, built once: building one takes tens of milliseconds, and the
    policy does not change while the hub runs (at most one entry per combination of roles)."""

    def __init__(self, policy: AccessPolicy) -> None:
        self._policy = policy
        self._sdl: dict[frozenset[str], str] = {}

    def sdl(self, roles: Iterable[str]) -> str:
        key = frozenset(roles)
        found = self._sdl.get(key)
        if found is None:
            found = self._sdl[key] = role_sdl(self._policy, key)
        return found
