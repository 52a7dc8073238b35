"""Checks on a GraphQL document before it runs: tokens, depth, aliases, directives,
introspection and cost (the rate the cost is charged to: hub/api/rate.py).

Everything here reads the parsed document and the schema, never the data, so a request that
would be too expensive is refused before it reaches Neo4j. The shape of a document is cached by
its text; only a cost that depends on arguments is computed per request.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    is_input_type,
    parse,
    type_from_ast,
    value_from_ast,
    visit,
)
from graphql.language import DirectiveNode, Visitor

from hub.errors import Code
from policies.limits import Limits
from policies.loader import PolicyError
from policies.principal import Principal

_INTROSPECTION = frozenset({"__schema", "__type"})
_PAGE_ARGUMENT = "first"


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


class ShapeCache:
    """Shapes of accepted documents by text, the least recently used dropped past ``size``.

    A document enters only once a caller was allowed to run it, so refused documents (the ones
    an attacker can vary at will) never take a place from the ones clients really send."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._shapes: OrderedDict[tuple[str, int], Shape] = OrderedDict()

    def __len__(self) -> int:
        return len(self._shapes)

    def get(self, query: str, max_tokens: int) -> Shape | None:
        found = self._shapes.get((query, max_tokens))
        if found is not None:
            self._shapes.move_to_end((query, max_tokens))
        return found

    def put(self, query: str, max_tokens: int, shape_: Shape) -> None:
        self._shapes[(query, max_tokens)] = shape_
        self._shapes.move_to_end((query, max_tokens))
        while len(self._shapes) > self.size:
            self._shapes.popitem(last=False)


SHAPES = ShapeCache(2048)


def shape(query: str, max_tokens: int) -> Shape:
    """Parse a document; raise :class:`Refusal` past the token limit or on a syntax error."""
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


def _with_defaults(
    operation: OperationDefinitionNode, variables: Mapping[str, Any], schema: GraphQLSchema
) -> dict[str, Any]:
    """The request's variables plus the operation's defaults for those it left out: a
    ``query($n: Int = 100)`` sent without ``n`` runs with 100 and is charged so."""
    merged = dict(variables)
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name in merged or definition.default_value is None:
            continue
        graphql_type = type_from_ast(schema, definition.type)
        if is_input_type(graphql_type):
            value = value_from_ast(definition.default_value, graphql_type)
            if value is not Undefined:
                merged[name] = value
    return merged


def _schema_default(argument: GraphQLArgument) -> Any:
    """An argument's default in the schema: a schema built from SDL keeps it as its literal."""
    default = argument.default
    if default is None:
        return argument.default_value
    if default.literal is not None:
        return value_from_ast(default.literal, argument.type)
    return default.value


def _value(node: FieldNode, definition: GraphQLField, name: str, variables: dict[str, Any]) -> Any:
    """An argument's value as the resolver will see it: the literal, else the variable (with
    the operation's default), else the schema's default."""
    value: Any = Undefined
    for argument in node.arguments or ():
        if argument.name.value == name:
            value = value_from_ast(argument.value, definition.args[name].type, variables)
    if value is Undefined:  # left out, or a variable neither sent nor defaulted
        value = _schema_default(definition.args[name])
    return None if value is Undefined else value


def _argument(
    node: FieldNode, definition: GraphQLField, name: str, variables: dict[str, Any]
) -> int | None:
    """A size argument's value; None when it is not a size the field accepts (absent, null,
    not a whole number, below 1): the caller charges its own default, so a negative size
    neither refunds the client's window nor overflows Redis's counter."""
    value = _value(node, definition, name, variables)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    return value


@dataclass(frozen=True, slots=True)
class _Pricing:
    """What the cost walk needs besides the selection: fragments, variables, policy."""

    fragments: Mapping[str, FragmentDefinitionNode]
    variables: dict[str, Any]
    limits: Limits
    may_call: Callable[[str], bool]
    argued: list[str]  # the arguments the walk read: none, and its cost is the shape's own


def _cost(
    selection_set: SelectionSetNode | None,
    parent: Any,
    pricing: _Pricing,
    sizes: Mapping[str, int],
    root: bool = False,
) -> int:
    """Units of a selection; ``sizes`` are the sizes of its lists set by the field above (a
    connection's page, a network's node limit). A root field the caller may not call costs 1:
    its resolver answers FORBIDDEN before any work, the more useful refusal."""
    limits, total = pricing.limits, 0
    for node in _fields(selection_set, pricing.fragments):
        name = node.name.value
        definition = parent.fields.get(name) if isinstance(parent, GraphQLObjectType) else None
        if definition is None or (root and not pricing.may_call(name)):
            total += 1  # __typename, introspection, an unknown field (validation's job)
            continue
        key = f"{parent.name}.{name}"
        child, is_list = _unwrap(definition.type)
        page = None
        if _PAGE_ARGUMENT in definition.args:
            pricing.argued.append(key)
            page = _argument(node, definition, _PAGE_ARGUMENT, pricing.variables)
            page = limits.page_default if page is None else page
        own, inner = 1, dict[str, int]()
        price = limits.prices.get(key)
        if price is not None:
            pricing.argued.append(key)
            values = {
                a: min(_argument(node, definition, a, pricing.variables) or rule.max, rule.max)
                for a, rule in price.arguments.items()
            }
            scopes = {a: _value(node, definition, a, pricing.variables) for a in price.scopes}
            own = price.units(values, scopes)
            inner = {list_: values[a] for list_, a in price.lists.items()}
        if page is not None and not is_list and isinstance(child, GraphQLObjectType):
            # A connection: its page sizes the lists it holds, not its cursors.
            inner = {
                n: page for n, f in child.fields.items() if _unwrap(f.type)[1] and n not in inner
            } | inner
            size = 1
        elif name in sizes:
            size = sizes[name]
        elif key in limits.list_lengths:
            pricing.argued.append(key)
            # Answers one item per element of an argument (a batch of codes): that many, and
            # the page cap when the argument is not a list the field would accept.
            given = _value(node, definition, limits.list_lengths[key], pricing.variables)
            size = min(len(given), limits.page_max) if isinstance(given, list) else limits.page_max
        elif page is not None:
            size = page
        elif is_list:
            size = limits.list_sizes.get(key, limits.list_size)
        else:
            size = 1
        total += own + size * _cost(node.selection_set, child, pricing, inner)
    return total


def cost(
    shape_: Shape,
    schema: GraphQLSchema,
    variables: Mapping[str, Any],
    limits: Limits,
    may_call: Callable[[str], bool] = lambda _: True,
) -> int:
    """Estimated fields resolved, plus the priced work of the expensive ones: page sizes and
    node limits multiply what they contain. A document whose cost reads no argument costs the
    same every time for callers who may call the same root fields: that cost is remembered."""
    fragments = _fragments(shape_.document)
    operations = _operations(shape_.document)
    roots = tuple(
        may_call(node.name.value)
        for operation in operations
        for node in _fields(operation.selection_set, fragments)
    )
    key = (id(shape_), id(schema), id(limits), roots)
    remembered = _FIXED_COSTS.get(key)
    if remembered is not None:
        return remembered[3]
    total, argued = 0, list[str]()
    for operation in operations:
        root = schema.get_root_type(operation.operation)
        variables_ = _with_defaults(operation, variables, schema)
        pricing = _Pricing(fragments, variables_, limits, may_call, argued)
        total += _cost(operation.selection_set, root, pricing, {}, root=True)
    if not argued:
        if len(_FIXED_COSTS) >= 4096:
            _FIXED_COSTS.clear()
        # Held with the cost, so their ids name nothing else while it is remembered.
        _FIXED_COSTS[key] = (shape_, schema, limits, total)
    return total


_FIXED_COSTS: dict[
    tuple[int, int, int, tuple[bool, ...]], tuple[Shape, GraphQLSchema, Limits, int]
] = {}


def check_prices(schema: GraphQLSchema, limits: Limits) -> None:
    """Refuse to start when limits.yaml prices or sizes a field or argument the schema lacks:
    a typo would silently leave an expensive field at the price of a cheap one."""
    for key in (*limits.prices, *limits.list_sizes, *limits.list_lengths):
        type_name, _, field_name = key.partition(".")
        owner = schema.get_type(type_name)
        field = owner.fields.get(field_name) if isinstance(owner, GraphQLObjectType) else None
        if field is None:
            raise PolicyError(f"limits.yaml: {key} is not a field of the schema")
        if key in limits.list_sizes and not _unwrap(field.type)[1]:
            raise PolicyError(f"limits.yaml: cost.list_sizes.{key} is not a list")
        if key in limits.list_lengths and limits.list_lengths[key] not in field.args:
            raise PolicyError(f"limits.yaml: {key} has no argument {limits.list_lengths[key]}")
        price = limits.prices.get(key)
        for argument in (*price.arguments, *price.scopes) if price else ():
            if argument not in field.args:
                raise PolicyError(f"limits.yaml: {key} has no argument {argument}")


def check_cached_fields(schema: GraphQLSchema, limits: Limits) -> None:
    """Refuse to start when limits.yaml keeps answers of a field that is no query root field:
    a mutation's answer served again would be a write that never happened."""
    fields = schema.query_type.fields if schema.query_type else {}
    for name in sorted(limits.cache.fields):
        if name not in fields:
            raise PolicyError(f"limits.yaml: cache.fields: {name} is not a root query field")


def check(
    query: str,
    variables: Mapping[str, Any],
    principal: Principal,
    limits: Limits,
    schema: GraphQLSchema,
    may_call: Callable[[str], bool] = lambda _: True,
) -> int:
    """Refuse a document past any limit for this caller; return its cost when it may run.
    Only a document that may run enters the shape cache."""
    found = SHAPES.get(query, limits.tokens) or shape(query, limits.tokens)
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
    estimate = cost(found, schema, variables, limits, may_call)
    budget = limits.max_cost(principal)
    if estimate > budget:
        raise Refusal(
            Code.LIMIT_EXCEEDED,
            f"the query would cost {estimate} units, more than your {budget}; ask for less",
            cost=estimate,
            budget=budget,
        )
    SHAPES.put(query, limits.tokens, found)
    return estimate
