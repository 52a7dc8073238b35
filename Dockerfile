# The hub's Python processes (API, worker, beat). Neo4j and Redis use their official images.
# The pages' browser libraries come from npm, as locked in package-lock.json (GraphiQL's are
# served only when HUB_ENV=development, compose's default).
FROM node:20-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/venv PATH=/venv/bin:$PATH
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY hub hub
COPY graph graph
COPY connectors connectors
COPY policies policies
COPY --from=assets /app/node_modules/cytoscape/dist node_modules/cytoscape/dist
COPY --from=assets /app/node_modules/react/umd node_modules/react/umd
COPY --from=assets /app/node_modules/react-dom/umd node_modules/react-dom/umd
COPY --from=assets /app/node_modules/graphiql/graphiql.min.js /app/node_modules/graphiql/graphiql.min.css node_modules/graphiql/
RUN uv sync --frozen --no-dev
EXPOSE 8000
CMD ["hub", "serve"]
