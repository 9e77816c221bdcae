"""The one settings object, read from the environment (and `.env` for local use)."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SERVICE_NAME = "SIDS ML Backend"
SERVICE_VERSION = "1.0.0"

# The SIDS data platform's front ends; localhost on any port is allowed by CORS_ORIGIN_REGEX.
DEFAULT_CORS_ORIGINS = [
    "https://sids-dashboard.github.io",
    "https://undp-data.github.io",
    "https://data.undp.org",
]
DEFAULT_CORS_ORIGIN_REGEX = r"^https?://(localhost|127\.0\.0\.1)(:\d+)?$"


class Settings(BaseSettings):
    """Service configuration. Each field is read from the environment variable of the same name."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", protected_namespaces=())

    dataset_path: Path = Field(
        Path("./datasets/"),
        description="Folder holding indicatorData.csv, indicatorMeta.csv and datasetMeta.csv.",
    )
    demo_data_fallback: bool = Field(
        True,
        description="Serve the built-in demo dataset when DATASET_PATH holds none of the three "
        "files. Turn off in production so a missing file share is an error, not demo data.",
    )
    dataset_check_interval: float = Field(
        0,
        ge=0,
        description="Seconds between checks of the dataset files' content hash; a change is "
        "reloaded without a restart. 0: no periodic check (POST /datasets/reload still works).",
    )
    dataset_max_abs_value: float = Field(
        1e15,
        gt=0,
        description="Largest absolute value a dataset may hold; a larger one (such as 1e308) "
        "means a corrupt file, which is refused (the real dataset's largest is about 3e13).",
    )
    dataset_share: str = Field("datasets", description="Azure Files share of the datasets.")
    azure_storage_file_url: str | None = Field(
        None, description="File service endpoint, used with a managed identity by the share CLI."
    )
    model_service: str | None = Field(
        None, description="Mount only this model (its folder name under models/); all if unset."
    )
    search_jobs: int = Field(
        1, ge=-1, description="n_jobs for scikit-learn searches and forests (-1: all cores)."
    )
    training_processes: int = Field(
        2,
        ge=0,
        description="Worker processes that run trainings (sync routes and the job worker's), "
        "so a training holds neither the web process's GIL nor its fate: a crash or an "
        "out-of-memory kill ends only its worker, which is replaced. At least MAX_CONCURRENCY "
        "to use every slot. 0: trainings run in threads of the process itself (the Function "
        "App, where instances scale out instead; and most tests).",
    )
    thread_switch_interval_ms: float = Field(
        0.5,
        gt=0,
        le=100,
        description="How long a thread may hold Python's GIL while another waits "
        "(sys.setswitchinterval; Python's default is 5 ms). With TRAINING_PROCESSES=0 "
        "trainings run in threads of the web process: a shorter interval keeps cached answers "
        "fast while one trains.",
    )
    cors_origins: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CORS_ORIGINS),
        description="Origins allowed by CORS (a JSON list in the environment).",
    )
    cors_origin_regex: str | None = Field(
        DEFAULT_CORS_ORIGIN_REGEX, description="Extra origins allowed by CORS, as a regex."
    )
    max_request_bytes: int = Field(
        10 * 1024 * 1024, ge=1, description="Largest request body accepted; larger ones get 413."
    )
    # Survey clustering builds a rows x columns table of the body: these bound its memory (the
    # byte limit alone does not: 10,000 records with a key each make 100 million cells).
    survey_max_rows: int = Field(
        20_000, ge=1, description="Rows (respondents) of a survey clustering request."
    )
    survey_max_columns: int = Field(
        500,
        ge=1,
        description="Keys of one survey row object, or columns of a survey in the columns orient.",
    )
    survey_max_distinct_keys: int = Field(
        1_000,
        ge=1,
        description="Distinct keys over all the row objects of a survey (its table's columns).",
    )
    survey_max_cells: int = Field(
        2_000_000, ge=1, description="Cells (rows x columns) of the table a survey makes."
    )
    log_level: str = Field("INFO", description="Python logging level name.")
    log_json: bool = Field(True, description="Log one JSON object per line (False: plain text).")

    # Jobs, result cache and load shedding.
    azure_storage_connection_string: str | None = Field(
        None,
        validation_alias=AliasChoices("AZURE_STORAGE_CONNECTION_STRING", "JobsStorage"),
        description="Storage for jobs and cached results; unset (and no URLs): in-process memory.",
    )
    azure_storage_blob_url: str | None = Field(
        None,
        validation_alias=AliasChoices("AZURE_STORAGE_BLOB_URL", "JobsStorage__blobServiceUri"),
        description="Blob endpoint, used with a managed identity instead of a connection string.",
    )
    azure_storage_queue_url: str | None = Field(
        None,
        validation_alias=AliasChoices("AZURE_STORAGE_QUEUE_URL", "JobsStorage__queueServiceUri"),
        description="Queue endpoint, used with a managed identity instead of a connection string.",
    )
    jobs_queue_name: str = Field("jobs", description="Storage queue of pending jobs.")
    results_container: str = Field("results", description="Blob container of jobs and results.")
    job_max_attempts: int = Field(
        3, ge=1, description="Deliveries of a job before it is marked failed (poison handling)."
    )
    job_visibility_timeout: float = Field(
        300, gt=0, description="Seconds a taken job stays hidden; a live worker keeps extending it."
    )
    worker_poll_interval: float = Field(1.0, gt=0, description="Seconds between empty polls.")
    embedded_worker: bool = Field(
        True, description="Run a job worker thread inside the web process (memory backend only)."
    )
    batch_container: str = Field(
        "ml-models",
        description="Blob container of batch output (the platform's precomputed model files), "
        "under the prefix a batch request names; the data API publishes it.",
        min_length=3,  # an Azure container name
        max_length=63,
        pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
    )
    batch_output_dir: Path | None = Field(
        None,
        description="Folder for batch output instead of BATCH_CONTAINER (local runs; the "
        "default with the memory backend is ./batch-output).",
    )
    warm_imputers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Imputers (the `interpolator` values, comma-separated) whose imputed "
        "predictor matrices are warmed up: whenever a process serving HTTP loads a new dataset "
        "version it submits one `warm` job per year of the data and imputer, newest years first, "
        "so the first request of a year reads the matrix instead of imputing it (about 30 s of "
        "CPU a year for IterativeImputer on Gapminder, once per dataset version). Empty: off.",
    )
    cache_max_entries: int = Field(256, ge=0, description="Results kept in the in-process LRU.")
    max_concurrency: int = Field(2, ge=1, description="Trainings running at once per process.")
    max_queue_length: int = Field(
        8, ge=0, description="Trainings waiting for a slot; beyond that requests get 503."
    )
    sync_timeout_seconds: float = Field(
        220,
        gt=0,
        description="Longest a sync training route waits before answering 504 (the Consumption "
        "plan's front door cuts HTTP at 230 s); the training still finishes and is cached.",
    )
    retry_after_seconds: int = Field(5, ge=1, description="Retry-After of a 503 when overloaded.")
    max_estimators: int = Field(
        1000,
        ge=1,
        description="Most trees a two-level imputation request may ask for (`estimators`); the "
        "front end offers up to 1000. Larger requests get a 422 naming this setting.",
    )
    max_trainings_per_client: int = Field(
        4,
        ge=1,
        description="Heavy requests (trainings, survey clusterings, reloads) one client address "
        "may have admitted at once; beyond that it gets 429 with Retry-After.",
    )
    trusted_proxies: int = Field(
        0,
        ge=0,
        description="Reverse proxies in front of the app that append the client's address to "
        "X-Forwarded-For (the ingress, the Functions front end). 0: the header is ignored and "
        "the connection's address is the client's.",
    )

    # Admin routes (POST /datasets/reload, GET /metrics).
    admin_api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Keys accepted on admin routes (Authorization: Bearer <key> or X-API-Key), "
        "comma-separated; several at once for a rotation. None: admin routes are refused.",
    )
    metrics_public: bool = Field(
        False,
        description="Serve /metrics without an admin key (only where it is reachable from "
        "inside the cluster alone, for Prometheus).",
    )

    @field_validator("admin_api_keys", "warm_imputers", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """ADMIN_API_KEYS="key1,key2", WARM_IMPUTERS="A,B": the items, blanks and surrounding
        spaces dropped."""
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("model_service")
    @classmethod
    def _empty_model_service_means_all(cls, value: str | None) -> str | None:
        """MODEL_SERVICE="" (as the main API's manifests set it) mounts every model."""
        return value or None


class InvalidSetting(ValueError):
    """A setting whose value the code above this layer refuses (its allowed values live there):
    start-up fails with this message, naming the setting and what it allows."""


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()
