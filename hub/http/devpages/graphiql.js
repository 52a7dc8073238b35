// GraphiQL for development, with the caller's bearer token. The token pasted above GraphiQL is
// sent with every request (unless the headers editor sets Authorization itself) and kept in
// this tab's sessionStorage only. The schema GraphiQL completes and documents is the token's
// own contract from GET /schema.graphql, not introspection: partners may not introspect, and
// GraphiQL's introspection query nests deeper than the hub's depth limit.
"use strict";

(() => {
  const KEY = "hub.graphiql.token";
  const START = [
    "# Paste a token above (`hub token --role partner`), press \"Use token\", then run:",
    "{",
    "  me { agency roles clearance }",
    "}",
    "",
  ].join("\n");
  const form = document.getElementById("token-form");
  const input = document.getElementById("token");
  const status = document.getElementById("contract");
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  let token = sessionStorage.getItem(KEY) || "";

  function headers(extra) {
    const all = { "Content-Type": "application/json", Accept: "application/json", ...extra };
    const named = Object.keys(all).some((name) => name.toLowerCase() === "authorization");
    if (token && !named) all.Authorization = `Bearer ${token}`;
    return all;
  }

  async function fetcher(params, options) {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: headers(options && options.headers),
      body: JSON.stringify(params),
    });
    return response.json();
  }

  // The token's contract as a schema, or null (no token, or the token refused: said above).
  async function contract() {
    if (!token) return null;
    const response = await fetch("/schema.graphql", { headers: headers({}) });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      const error = (body.errors || [{}])[0];
      throw new Error(`${error.message || response.statusText} (${(error.extensions || {}).code || response.status})`);
    }
    return GraphiQL.GraphQL.buildSchema(await response.text());
  }

  async function render() {
    let schema = null;
    status.classList.remove("refused");
    try {
      schema = await contract();
      status.textContent = schema
        ? "Token in use. Schema: your token's contract (GET /schema.graphql)."
        : "No token: queries will be refused (UNAUTHENTICATED).";
    } catch (error) {
      status.classList.add("refused");
      status.textContent = `Token refused: ${error.message}`;
    }
    root.render(
      React.createElement(GraphiQL, {
        fetcher,
        schema,
        defaultQuery: START,
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: false,
      }),
    );
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    token = input.value.trim();
    if (token) sessionStorage.setItem(KEY, token);
    else sessionStorage.removeItem(KEY);
    input.value = "";
    render();
  });
  render();
})();
