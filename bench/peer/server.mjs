// The peer of `make bench-peer`: the hub's Neo4j served through @neo4j/graphql, the library a team
// would pick for a GraphQL layer over Neo4j. A plain Node http server (no framework costs), the
// schema built once, and each distinct document parsed and validated once, so the peer runs at
// its best. No authentication, access filter, masking or audit: that is what the hub pays for.
//
// PEER_PORT, PEER_NEO4J_URI (bolt://127.0.0.1:7687) and PEER_WORKERS (node:cluster processes,
// 2 like the hub's uvicorn workers) come from the environment; "peer ready" is printed when
// every worker listens.
import cluster from "node:cluster";
import http from "node:http";
import { Neo4jGraphQL } from "@neo4j/graphql";
import { execute, parse, validate } from "graphql";
import neo4j from "neo4j-driver";

const port = Number(process.env.PEER_PORT ?? 18200);
const uri = process.env.PEER_NEO4J_URI ?? "bolt://127.0.0.1:7687";
const workers = Number(process.env.PEER_WORKERS ?? 2);

// The graph as the hub writes it (graph/subjects.py, graph/rating.py): the fields of the hub's
// lookup the library can map, and the three links `network` follows between people and subjects.
const typeDefs = /* GraphQL */ `
  type Subject @node {
    creditCode: String!
    name: String
    kind: String
    status: String
    division: String
    grade: String
    score: Float
    rating: [Rating!]! @relationship(type: "RATED", direction: IN)
    legalRepresentatives: [Person!]! @relationship(type: "LEGAL_REPRESENTATIVE_OF", direction: IN, properties: "Link")
    shareholders: [Person!]! @relationship(type: "SHAREHOLDER_OF", direction: IN, properties: "Link")
    officers: [Person!]! @relationship(type: "OFFICER_OF", direction: IN, properties: "Link")
    corporateShareholders: [Subject!]! @relationship(type: "SHAREHOLDER_OF", direction: IN, properties: "Link")
    holdings: [Subject!]! @relationship(type: "SHAREHOLDER_OF", direction: OUT, properties: "Link")
    records: [CreditRecord!]! @relationship(type: "HAS_RECORD", direction: OUT)
    sanctions: [Sanction!]! @relationship(type: "SANCTIONED", direction: IN)
  }
  type Rating @node {
    id: String
    grade: String
    score: Float
    computedAt: DateTime
  }
  type Person @node {
    personId: String
    name: String
    idMasked: String
    represents: [Subject!]! @relationship(type: "LEGAL_REPRESENTATIVE_OF", direction: OUT, properties: "Link")
    holdings: [Subject!]! @relationship(type: "SHAREHOLDER_OF", direction: OUT, properties: "Link")
    offices: [Subject!]! @relationship(type: "OFFICER_OF", direction: OUT, properties: "Link")
  }
  type Link @relationshipProperties {
    since: Date
    until: Date
    share: Float
    role: String
  }
  type CreditRecord @node {
    id: String
    item: String
    tier: String
    status: String
    decidedOn: Date
  }
  type Sanction @node {
    id: String
    listing: String
    measures: [String!]
    status: String
    startDate: Date
  }
`;

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

async function serve() {
  const driver = neo4j.driver(uri, neo4j.auth.basic("neo4j", "neo4j"));
  const schema = await new Neo4jGraphQL({ typeDefs, driver }).getSchema();
  const documents = new Map(); // query text -> { document } or { errors }, parsed and validated once

  function prepared(query) {
    let entry = documents.get(query);
    if (entry === undefined) {
      try {
        const document = parse(query);
        const errors = validate(schema, document);
        entry = errors.length ? { errors } : { document };
      } catch (error) {
        entry = { errors: [error] };
      }
      documents.set(query, entry);
    }
    return entry;
  }

  const server = http.createServer((req, res) => {
    if (req.method !== "POST" || req.url !== "/graphql") {
      reply(res, 404, { errors: [{ message: "POST /graphql only" }] });
      return;
    }
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", async () => {
      try {
        const { query, variables, operationName } = JSON.parse(Buffer.concat(chunks).toString());
        const entry = prepared(query);
        if (entry.errors) {
          reply(res, 400, { errors: entry.errors.map((e) => ({ message: e.message })) });
          return;
        }
        const result = await execute({
          schema,
          document: entry.document,
          variableValues: variables,
          operationName,
          contextValue: {}, // the library adds its executor here; the driver is the one above
        });
        reply(res, 200, result);
      } catch (error) {
        reply(res, 500, { errors: [{ message: String(error) }] });
      }
    });
  });
  server.keepAliveTimeout = 120_000;
  server.listen(port, "127.0.0.1", () => process.send?.("listening"));
}

if (cluster.isPrimary && workers > 1) {
  let listening = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork().on("message", () => {
      if (++listening === workers) console.log(`peer ready on ${port} (${workers} workers)`);
    });
  }
  cluster.on("exit", (worker, code) => {
    console.error(`peer worker ${worker.process.pid} exited (${code}); stopping`);
    process.exit(1);
  });
  for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => {
      for (const worker of Object.values(cluster.workers)) worker.process.kill(signal);
      process.exit(0);
    });
  }
} else {
  await serve();
  if (cluster.isPrimary) console.log(`peer ready on ${port} (1 worker)`);
}
