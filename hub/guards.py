"""Checks on a GraphQL document before it runs: tokens, depth, aliases, directives,
introspection, cost, and the per-client rate in cost units.

Everything here reads the parsed document and the schema, never the data, so a request that
would be too expensive is refused before it reaches Neo4j. The shape of a document is cached by
its text; only the cost, which depends on variables, is computed per request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    parse,
    visit,
)
from graphql.language import DirectiveNode, Visitor

from policies.limits import Limits
from policies.principal import Principal

from .errors import Code

_INTROSPECTION = frozenset({"__schema", "__type"})
_PAGE_ARGUMENT = "first"
_PAGED_LIST = "edges"  # a connection's list: its size is the page already counted above it


class Refusal(Exception):
    """Why a document may not run; ``code`` is one of the API's error codes."""

    def __init__(self, code: Code, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.code = code
        self.extensions = extensions


@dataclass(frozen=True, slots=True)
class Shape:
    """What a document asks for, independent of variables and caller."""

    document: DocumentNode
    depth: int
    aliases: int
    directives: int
    introspection: bool


class _Counter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.aliases = 0
        self.directives = 0
        self.introspection = False

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.alias is not None:
            self.aliases += 1
        if node.name.value in _INTROSPECTION:
            self.introspection = True

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        self.directives += 1


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _fields(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> Iterator[FieldNode]:
    """Fields of a selection set with fragments expanded (a fragment cycle is cut, not looped)."""
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                yield from _fields(fragments[name].selection_set, fragments, seen | {name})


def _depth(
    selection_set: SelectionSetNode | None, fragments: Mapping[str, FragmentDefinitionNode]
) -> int:
    fields = list(_fields(selection_set, fragments))
    if not fields:
        return 0
    return 1 + max(_depth(f.selection_set, fragments) for f in fields)


def _operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


@lru_cache(maxsize=2048)
def shape(query: str, max_tokens: int) -> Shape:
    """Parse once per distinct document text; raise :class:`Refusal` past the token limit."""
    try:
        document = parse(query, max_tokens=max_tokens, no_location=False)
    except GraphQLSyntaxError as exc:
        if "tokens" in exc.message and "Parsing aborted" in exc.message:
            raise Refusal(
                Code.LIMIT_EXCEEDED, f"the document has more than {max_tokens} tokens"
            ) from None
        raise Refusal(Code.BAD_USER_INPUT, exc.message) from None
    counter = _Counter()
    visit(document, counter)
    fragments = _fragments(document)
    depth = max((_depth(op.selection_set, fragments) for op in _operations(document)), default=0)
    return Shape(document, depth, counter.aliases, counter.directives, counter.introspection)


def _unwrap(graphql_type: Any) -> tuple[Any, bool]:
    """The named type under NonNull/List wrappers, and whether a list was among them."""
    is_list = False
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(graphql_type, GraphQLList)
        graphql_type = graphql_type.of_type
    return graphql_type, is_list


def _page(node: FieldNode, variables: Mapping[str, Any], default: int) -> int:
    for argument in node.arguments or ():
        if argument.name.value != _PAGE_ARGUMENT:
            continue
        value = argument.value
        given: object = None
        if isinstance(value, IntValueNode):
            given = int(value.value)
        elif isinstance(value, VariableNode):
            given = variables.get(value.name.value)
        # A size the field will refuse is charged as the default: a negative one would make the
        # cost negative, refund the client's window, and overflow Redis's 64-bit counter.
        return given if isinstance(given, int) and given > 0 else default
    return default


def _cost(
    selection_set: SelectionSetNode | None,
    parent: Any,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    limits: Limits,
) -> int:
    total = 0
    for node in _fields(selection_set, fragments):
        definition = (
            parent.fields.get(node.name.value) if isinstance(parent, GraphQLObjectType) else None
        )
        if definition is None:  # __typename, introspection or an unknown field: validation's job
            total += 1
            continue
        child, is_list = _unwrap(definition.type)
        if _PAGE_ARGUMENT in definition.args:
            size = _page(node, variables, limits.page_default)
        elif is_list and node.name.value != _PAGED_LIST:
            size = limits.list_size
        else:
            size = 1
        total += 1 + size * _cost(node.selection_set, child, fragments, variables, limits)
    return total


def cost(shape_: Shape, schema: GraphQLSchema, variables: Mapping[str, Any], limits: Limits) -> int:
    """Estimated fields resolved: page sizes multiply what they contain."""
    fragments = _fragments(shape_.document)
    total = 0
    for operation in _operations(shape_.document):
        root = schema.get_root_type(operation.operation)
        total += _cost(operation.selection_set, root, fragments, variables, limits)
    return total


def check(
    query: str,
    variables: Mapping[str, Any],
    principal: Principal,
    limits: Limits,
    schema: GraphQLSchema,
) -> int:
    """Refuse a document past any limit for this caller; return its cost when it may run."""
    found = shape(query, limits.tokens)
    max_depth = limits.max_depth(principal)
    if found.depth > max_depth:
        raise Refusal(Code.LIMIT_EXCEEDED, f"the query nests deeper than {max_depth} levels")
    if found.aliases > limits.aliases:
        raise Refusal(Code.LIMIT_EXCEEDED, f"the query uses more than {limits.aliases} aliases")
    if found.directives > limits.directives:
        raise Refusal(
            Code.LIMIT_EXCEEDED, f"the query uses more than {limits.directives} directives"
        )
    if found.introspection and not limits.may_introspect(principal):
        raise Refusal(Code.FORBIDDEN, "introspection is not available to your role")
    estimate = cost(found, schema, variables, limits)
    budget = limits.max_cost(principal)
    if estimate > budget:
        raise Refusal(
            Code.LIMIT_EXCEEDED,
            f"the query would cost {estimate} units, more than your {budget}; ask for less",
            cost=estimate,
            budget=budget,
        )
    return estimate


RATE_KEY = "hub:rate:{issuer}:{subject}:{window}"


async def spend(redis: Any, principal: Principal, units: int, limits: Limits, now: float) -> None:
    """Charge a request's cost to its client's window in Redis (shared by every API process);
    refuse once the window's units are spent, saying when the next window opens."""
    window = int(now // limits.rate_window)
    key = RATE_KEY.format(issuer=principal.issuer, subject=principal.subject, window=window)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incrby(key, units)
        pipe.expire(key, limits.rate_window * 2)
        spent, _ = await pipe.execute()
    allowed = limits.rate_limit(principal)
    if int(spent) > allowed:
        retry = int((window + 1) * limits.rate_window - now) + 1
        raise Refusal(
            Code.LIMIT_EXCEEDED,
            f"rate limit: {allowed} cost units per {limits.rate_window} s; retry in {retry} s",
            retryAfter=retry,
        )
