"""Run-time settings, from the environment (``HUB_*``) with defaults for a local machine.

The one reader of the environment: the connectors get what they need as a
:class:`connectors.config.WorkerConfig` built here (:attr:`Settings.worker_config`)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.config import WorkerConfig
from connectors.storage.config import Addressing, StorageConfig
from graph.archive.xlsx_guard import MAX_ENTRIES, MAX_RATIO, MAX_UNCOMPRESSED, XlsxLimits
from graph.db import Neo4jConfig
from policies.credit.letters import Letters, default_letters
from policies.credit.measures import Catalogue, load_measures
from policies.issuers import MAX_LIFETIME_CAP
from policies.targets import TargetRule, target_rule

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    # A refused setting is named, its value never shown: it may sit beside a secret.
    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore", hide_input_in_errors=True)

    env: str = "development"  # "production" turns GraphiQL and dev tokens off
    data_dir: Path = PROJECT_ROOT / ".data"
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # how users reach the API; defaults to http://host:port
    workers: int = 2  # uvicorn worker processes for `hub serve`

    neo4j_uri: str = "bolt://127.0.0.1:7687"
    neo4j_user: str = ""
    neo4j_password: str = ""
    neo4j_database: str = "neo4j"
    neo4j_pool_size: int = 50
    neo4j_query_timeout: float = 5.0  # seconds; partner reads are bounded by this
    neo4j_connect_timeout: float = 2.0

    redis_url: str = "redis://127.0.0.1:6379/0"
    public_api: bool = True  # GraphQL without a token answers as the public role
    portal_cache_seconds: int = 60  # public pages kept in Redis at most this long; 0: none
    portal_session_seconds: int = 1800  # a subject signed in on the portal, at most this long
    signin_file: Path = PROJECT_ROOT / "policies" / "signin.yaml"  # the portal's OIDC providers
    signin_client_secret: SecretStr = SecretStr("")  # the hub's secret at those providers
    archive_max_bytes: int = 256 * 1024 * 1024  # one uploaded archive file (POST /archives)
    xlsx_max_uncompressed: int = MAX_UNCOMPRESSED  # bytes of one workbook's entries, inflated
    xlsx_max_entries: int = MAX_ENTRIES  # zip entries in one workbook
    xlsx_max_ratio: int = MAX_RATIO  # inflated / compressed size of one entry

    # Where uploaded archive files and evidence live (connectors/storage): "fs", files under
    # data_dir, or "s3", an S3-compatible bucket every API host and worker reaches.
    storage: str = "fs"
    s3_endpoint_url: str = ""  # e.g. https://minio.internal:9000; empty: AWS S3 of s3_region
    s3_bucket: str = ""
    s3_region: str = ""
    s3_access_key: str = ""  # empty: boto3's credential chain (AWS_* variables, instance role)
    s3_secret_key: SecretStr = SecretStr("")
    s3_prefix: str = ""  # every key under it, e.g. "hub/"
    s3_addressing_style: Addressing = "auto"  # "path" for most MinIO, "virtual" for OSS

    # Slow clients: the request line and headers within header_timeout seconds of the
    # connection (or of the request's first byte on a kept-alive one); the body within
    # body_timeout seconds plus one second per body_min_rate bytes received.
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    body_min_rate: int = 64 * 1024  # bytes per second

    jwt_issuer: str = "credit-hub-dev"  # the built-in dev issuer, off when env is "production"
    jwt_audience: str = "credit-hub"
    limits_file: Path = PROJECT_ROOT / "policies" / "limits.yaml"  # request limits, per role
    jwt_leeway: int = 30  # seconds of clock skew tolerated on exp/iat/nbf
    # Longest dev token (exp - iat), seconds; a day, so `hub up`'s demo tokens last the day.
    jwt_max_lifetime: int = Field(default=86400, gt=0, le=MAX_LIFETIME_CAP)
    issuers_file: Path = PROJECT_ROOT / "policies" / "issuers.yaml"  # trusted partner IdPs
    measures_file: Path = PROJECT_ROOT / "policies" / "measures.yaml"  # joint punishment, delivery
    feeds_file: Path | None = None  # the lists pulled from outside; None: policies/feeds.yaml
    retention_file: Path = PROJECT_ROOT / "policies" / "retention.yaml"  # what goes, and when
    jwks_min_refetch: float = 30.0  # seconds between fetches of one issuer's keys, at least
    jwks_ca_file: Path | None = None  # extra CA (PEM) trusted for https JWKS, e.g. a private IdP
    # Webhook targets (policies/targets.py): production posts only to public https endpoints.
    webhook_public_only: bool = False  # the address rule outside production too (staging)
    webhook_allowed_hosts: str = ""  # comma-separated names/addresses exempt from the rule
    metrics_token: SecretStr = SecretStr("")  # bearer token for /metrics; see hub/http/metrics.py

    # `hub seed`/`hub import` progress off a terminal: the bar (progress), or a line per batch
    # (progress_log, for logs a benchmark reads).
    progress: bool = False
    progress_log: bool = False
    # The Neo4j that `hub up` starts; named as Neo4j's own settings are, without the prefix.
    neo4j_pagecache: str = Field(default="2g", validation_alias=AliasChoices("NEO4J_PAGECACHE"))
    neo4j_heap: str = Field(default="2g", validation_alias=AliasChoices("NEO4J_HEAP"))

    @model_validator(mode="after")
    def _storage_usable(self) -> Settings:
        """A storage setting that cannot work stops every process at its start."""
        self.storage_config  # noqa: B018  (built to be checked)
        return self

    @property
    def storage_config(self) -> StorageConfig:
        """Where uploads live: the API writes them, the workers read archives from it."""
        return StorageConfig(
            kind=self.storage,
            root=self.data_dir,
            endpoint_url=self.s3_endpoint_url,
            bucket=self.s3_bucket,
            region=self.s3_region,
            access_key=self.s3_access_key,
            secret_key=self.s3_secret_key.get_secret_value(),
            prefix=self.s3_prefix,
            addressing_style=self.s3_addressing_style,
        )

    @property
    def neo4j(self) -> Neo4jConfig:
        """The connection to Neo4j: the API's, and each worker process's."""
        return Neo4jConfig(
            uri=self.neo4j_uri,
            user=self.neo4j_user,
            password=self.neo4j_password,
            database=self.neo4j_database,
            pool_size=self.neo4j_pool_size,
            connect_timeout=self.neo4j_connect_timeout,
            query_timeout=self.neo4j_query_timeout,
        )

    @property
    def worker_config(self) -> WorkerConfig:
        """What the connectors need (Celery's broker, the workers' clients, their rules)."""
        return WorkerConfig(
            redis_url=self.redis_url,
            neo4j=self.neo4j,
            targets=self.webhook_targets,
            measures_file=self.measures_file,
            feeds_file=self.feeds_file,
            storage=self.storage_config,
            retention_file=self.retention_file,
        )

    @property
    def webhook_targets(self) -> TargetRule:
        """Where partners' webhooks may point (the workers get the same rule)."""
        return target_rule(self.env, self.webhook_public_only, self.webhook_allowed_hosts)

    @property
    def xlsx_limits(self) -> XlsxLimits:
        return XlsxLimits(self.xlsx_max_uncompressed, self.xlsx_max_entries, self.xlsx_max_ratio)

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


@cache
def get_settings() -> Settings:
    return Settings()


@cache
def letters() -> Letters:
    """Which listings get a printed recommendation and whom it is addressed to, validated
    against the catalogue's partner kinds."""
    return default_letters(tuple(catalogue().partner_kinds))


@cache
def catalogue() -> Catalogue:
    """The measures catalogue the hub runs with (``HUB_MEASURES_FILE``), validated once."""
    return load_measures(get_settings().measures_file)
