"""Settings for every service, read from ``INNSPILL_*`` environment variables (DESIGN.md, Settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.review import REVIEW_BUDGET


class Settings(BaseSettings):
    """All knobs of the system. Every one is optional; defaults work offline on one machine."""

    model_config = SettingsConfigDict(env_prefix="INNSPILL_", extra="ignore")

    # Contract settings (DESIGN.md)
    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = "innspill"
    database_url: str | None = None
    data_dir: Path = Path("./var")
    model_dir: Path | None = None
    api_token: SecretStr | None = None
    blob_url: str | None = Field(
        None,
        description="Blob store: unset = a folder under the data dir; s3://bucket/prefix = S3-compatible.",
    )
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    taxonomy: Path = Field(Path("data/taxonomy/themes.json"), description="The theme taxonomy (JSON).")

    # Team data for training and evaluation (relative to the working directory, the repository root)
    labelled_dir: Path = Path("data/labelled")
    seeds_dir: Path = Field(Path("../shared/seeds"), description="Seed letters and gold: evaluation only.")

    # HTTP
    host: str = "127.0.0.1"
    ingest_port: int = 8001
    extract_port: int = 8002
    classify_port: int = 8003
    store_port: int = 8004

    # Kafka behaviour. Short group timeouts keep joins quick on the Tansu test broker.
    kafka_session_timeout_s: float = 6.0
    kafka_rebalance_timeout_s: float = 6.0
    kafka_heartbeat_interval_s: float = 1.0
    kafka_fetch_max_wait_ms: int = Field(
        100,
        ge=1,
        le=1500,
        description="Longest a consumer's fetch waits at the broker for new records. faust fixes 1500 ms; "
        "a broker that does not answer a waiting fetch when records arrive (Tansu) then adds that much "
        "to every hop, so the stream services ask for this instead.",
    )
    kafka_exactly_once: bool = Field(
        False, description="Use Kafka transactions (real Apache Kafka only; Tansu rejects them)."
    )
    document_partitions: int = 3
    segment_partitions: int = 6
    kafka_replication_factor: int = 1
    max_retries: int = 3
    retry_backoff_s: float = 0.5

    # Ingest
    max_upload_bytes: int = 50_000_000  # 50 MB (decimal): "over 50 MB" is refused in either reading
    drop_stable_s: float = Field(
        2.0, description="A dropped file is ingested once its size and mtime stayed the same this long."
    )
    ingest_max_concurrent: int = Field(
        16, description="Uploads spooled at once; more wait their turn (never refused)."
    )

    # Extract
    extract_workers: int = Field(0, description="Documents extracted at once; 0 = one per CPU core.")
    extract_timeout_s: float = 120.0
    extract_max_pages: int = 500
    extract_max_memory_mb: int = 2048
    ocr_enabled: bool = True
    ocr_languages: str = "nor+eng"

    # Classify
    classify_batch_size: int = 32
    classify_batch_wait_ms: int = 50
    classify_max_items: int = 512
    classify_threads: int = Field(2, description="CPU threads for model inference (torch / onnxruntime).")

    # Resilience
    redrive_after_s: float = Field(
        300.0,
        description="A document not final this long after its last event is re-driven from its blob; the "
        "wait doubles with each re-drive.",
    )
    redrive_max_tries: int = Field(3, description="Re-drives per document before it fails with code 'stuck'.")
    sweep_interval_s: float = Field(15.0, description="How often the store looks for stuck documents.")
    store_url: str | None = Field(
        None,
        description="Where ingest asks a document's status (re-drive of a re-uploaded unfinished document); "
        "default http://<host>:<store_port>.",
    )
    ingest_url: str | None = Field(
        None,
        description="Where the store's upload page forwards files (streamed, with the token); "
        "default http://127.0.0.1:<ingest_port> (http://127.0.0.1:8001).",
    )
    review_budget: float = Field(
        REVIEW_BUDGET,
        ge=0.0,
        le=1.0,
        description="Share of a letter's segments that may be flagged needs_review (the least confident).",
    )
    broker_probe_s: float = Field(2.0, description="How often services check that the broker answers.")
    auth_max_failures: int = Field(10, description="Wrong tokens per client per window before 429.")
    auth_window_s: float = Field(60.0, description="Window of the failed-login limit, in seconds.")
    session_secret: SecretStr | None = Field(
        None, description="Key that signs the UI session cookie; default: derived from the API token."
    )

    # Logging
    log_level: str = "INFO"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def drop_dir(self) -> Path:
        return self.data_dir / "drop"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'innspill.db').resolve()}"

    @property
    def resolved_model_dir(self) -> Path:
        return self.model_dir if self.model_dir else self.data_dir / "models" / "default"

    @property
    def token(self) -> str | None:
        return self.api_token.get_secret_value() if self.api_token else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
