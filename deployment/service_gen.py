"""Write the Kubernetes manifests of one service from the templates in deployment/k8s/templates.

    python -m deployment.service_gen --model twolvlImp --image REGISTRY/sids-ml-backend:SHA

`--kind model` (the default) writes the Deployment, Service, PodDisruptionBudget, NetworkPolicy,
KEDA ScaledObject and Gateway API HTTPRoute of a per-model service: MODEL_SERVICE=<model>, route
path /<model>. `--kind api` writes the same for the main API (every model, path /), `--kind
worker` the queue worker and its ScaledObject, `--kind shared` the namespace's shared resources
(the Gateway, the admin keys' SecretProviderClass; Terraform renders those from the same
templates). Values with an honest default have one; the rest (the image, the
model, the storage account, ...) are asked for when stdin is a terminal, and named in the error
otherwise or with --non-interactive.
"""

import argparse
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from common.serving.registry import available_model_names
from deployment.k8s.render import TEMPLATES_DIR, Value, render

APP_NAME = "sids-ml-backend"
KINDS = ("model", "api", "worker", "shared")
SERVICES = ("model", "api")
TEMPLATES = {
    "model": "service.yaml",
    "api": "service.yaml",
    "worker": "worker.yaml",
    "shared": "shared.yaml",
}

# Resources from the benchmark (docs/benchmarks.md): with the real dataset about 250-500 MB RSS
# for the app alone, 780 MB with its two training processes (TRAINING_PROCESSES=2, one per
# MAX_CONCURRENCY slot, each holding its copy of the dataset and caches), trainings CPU-bound on
# one core each. HTTP pods also run the Functions host (.NET), hence more memory than the worker
# (which trains one job at a time, in one training process).
SERVICE_RESOURCES = {
    "cpu_request": "500m",
    "cpu_limit": "2",
    "memory_request": "1Gi",
    "memory_limit": "2Gi",
}
WORKER_RESOURCES = {
    "cpu_request": "1",
    "cpu_limit": "2",
    "memory_request": "512Mi",
    "memory_limit": "1Gi",
}

Values = dict[str, Value]


class UsageError(ValueError):
    """A flag is missing, invalid or does not apply to the kind."""


# Checks: each parses a flag's text and raises ValueError with the reason when it is invalid.


def _matching(pattern: str, what: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def check(text: str) -> str:
        if not compiled.fullmatch(text):
            raise ValueError(f"{text!r} is not {what}")
        return text

    return check


_dns_label = _matching(
    r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?", "a DNS label (lowercase letters, digits and '-')"
)
_cpu = _matching(r"\d+(\.\d+)?m?", "a CPU quantity such as 500m or 2")
_memory = _matching(r"\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?", "a memory quantity such as 512Mi")
_int_or_percent = _matching(r"\d+%?", "a count or a percentage such as 1 or 25%")
_storage_account = _matching(r"[a-z0-9]{3,24}", "a storage account name")
_storage_name = _matching(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", "a share, queue or container name")
_resource_group = _matching(r"[-\w.()]{1,90}", "a resource group name")
_uuid = _matching(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", "a client id (a UUID)")
_https_url = _matching(r"https://[^\s\"'$%{}]+", "an https URL")
_host_name = _matching(
    r"([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", "a DNS host name such as api.example.org"
)
_key_vault = _matching(r"[A-Za-z][-A-Za-z0-9]{1,22}[A-Za-z0-9]", "a Key Vault name")
_secret_name = _matching(r"[A-Za-z0-9-]{1,127}", "a Key Vault secret name")
_certificate_uri = _matching(
    r"https://[a-z0-9-]+\.vault\.azure\.net/certificates/[A-Za-z0-9-]+",
    "an unversioned Key Vault certificate URI (https://<vault>.vault.azure.net/certificates/<name>)",
)


def _image(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/:@-]*", text):
        raise ValueError(f"{text!r} is not an image reference")
    last = text.rsplit("/", 1)[-1]
    if (":" not in last and "@" not in last) or last.endswith(":latest"):
        raise ValueError(f"{text!r} needs a tag (the commit SHA) or a digest, not latest")
    return text


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _model(text: str) -> str:
    names = available_model_names()
    if text not in names:
        raise ValueError(f"{text!r} is not a model; available: {', '.join(names)}")
    return text


@dataclass(frozen=True)
class Field:
    """One flag: where it applies, how it is checked, and its default (None: it must be given)."""

    name: str  # the template variable, and the flag with '-' for '_'
    help: str
    kinds: tuple[str, ...]
    check: Callable[[str], Value]
    default: Callable[[Values, str], Value] | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _const(value: Value) -> Callable[[Values, str], Value]:
    return lambda _values, _kind: value


def _resource(name: str) -> Callable[[Values, str], Value]:
    return lambda _values, kind: (WORKER_RESOURCES if kind == "worker" else SERVICE_RESOURCES)[name]


def _default_name(values: Values, kind: str) -> Value:
    app = values["app_name"]
    if kind == "model":
        return f"{app}-{re.sub(r'[^a-z0-9]+', '-', str(values['model']).lower())}"
    return f"{app}-worker" if kind == "worker" else app


_ALL = KINDS
_WORKLOADS = ("model", "api", "worker")
# In dependency order: a default may use the values before it.
FIELDS = (
    Field("app_name", "prefix of the default names", _ALL, _dns_label, _const(APP_NAME)),
    Field("namespace", "Kubernetes namespace", _ALL, _dns_label, lambda v, _: v["app_name"]),
    Field("model", "the model's folder under models/", ("model",), _model),
    Field("name", "name of the Deployment and its objects", _WORKLOADS, _dns_label, _default_name),
    Field("image", "image reference tagged with the commit SHA", _WORKLOADS, _image),
    Field("cpu_request", "CPU request", _WORKLOADS, _cpu, _resource("cpu_request")),
    Field("cpu_limit", "CPU limit", _WORKLOADS, _cpu, _resource("cpu_limit")),
    Field("memory_request", "memory request", _WORKLOADS, _memory, _resource("memory_request")),
    Field("memory_limit", "memory limit", _WORKLOADS, _memory, _resource("memory_limit")),
    # The main API answers the front end: two replicas so a restart is never an outage.
    Field(
        "min_replicas",
        "fewest replicas (the CPU scaler cannot scale to zero)",
        SERVICES,
        _positive,
        lambda _v, kind: 2 if kind == "api" else 1,
    ),
    Field("max_replicas", "most replicas", _WORKLOADS, _positive, _const(4)),
    Field("max_surge", "extra pods during a rollout", SERVICES, _int_or_percent, _const("1")),
    Field("max_unavailable", "pods down during a rollout", SERVICES, _int_or_percent, _const("0")),
    Field(
        "service_account",
        "the workload identity's ServiceAccount",
        _ALL,
        _dns_label,
        lambda v, _: v["app_name"],
    ),
    Field(
        "config_map",
        "the settings ConfigMap",
        _ALL,
        _dns_label,
        lambda v, _: f"{v['app_name']}-settings",
    ),
    Field(
        "dataset_claim",
        "the dataset share's PersistentVolumeClaim",
        _ALL,
        _dns_label,
        lambda v, _: f"{v['app_name']}-datasets",
    ),
    Field(
        "storage_account",
        "storage account of the dataset share (shared) or of the jobs queue (worker)",
        ("worker", "shared"),
        _storage_account,
    ),
    Field("jobs_queue", "jobs queue name", ("worker", "shared"), _storage_name, _const("jobs")),
    Field(
        "trigger_auth",
        "KEDA TriggerAuthentication (shared.yaml names it after the app)",
        ("worker",),
        _dns_label,
        lambda v, _: v["app_name"],
    ),
    Field(
        "gateway",
        "the Gateway the HTTPRoutes attach to",
        ("model", "api", "shared"),
        _dns_label,
        lambda v, _: v["app_name"],
    ),
    Field(
        "admin_secret",
        "SecretProviderClass and synced Secret of ADMIN_API_KEYS",
        ("model", "api", "shared"),
        _dns_label,
        lambda v, _: f"{v['app_name']}-admin",
    ),
    Field("identity_client_id", "client id of the managed identity", ("shared",), _uuid),
    Field("tenant_id", "Entra tenant of the identity and the Key Vault", ("shared",), _uuid),
    Field(
        "key_vault_name", "Key Vault of the admin keys and the certificate", ("shared",), _key_vault
    ),
    Field(
        "admin_keys_secret",
        "Key Vault secret holding ADMIN_API_KEYS",
        ("shared",),
        _secret_name,
        _const("admin-api-keys"),
    ),
    Field("host_name", "public host name of the Gateway's TLS listener", ("shared",), _host_name),
    Field(
        "tls_certificate_uri", "Key Vault certificate of host_name", ("shared",), _certificate_uri
    ),
    Field(
        "storage_resource_group",
        "resource group of the storage account",
        ("shared",),
        _resource_group,
    ),
    Field("dataset_share", "Azure Files share holding the dataset", ("shared",), _storage_name),
    Field("dataset_share_size_gi", "quota of the share in GiB", ("shared",), _positive),
    # No default: the jobs and results may live in another account than the dataset share.
    Field("blob_url", "blob endpoint of the job results", ("shared",), _https_url),
    Field("queue_url", "queue endpoint of the jobs queue", ("shared",), _https_url),
    Field(
        "results_container",
        "blob container of jobs and results",
        ("shared",),
        _storage_name,
        _const("results"),
    ),
    Field(
        "batch_container",
        "blob container of batch output (the precomputed model files)",
        ("shared",),
        _storage_name,
        _const("ml-models"),
    ),
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m deployment.service_gen",
        description=__doc__.split("\n\n")[0],
        epilog="Flags with no default are asked for on a terminal unless --non-interactive.",
    )
    parser.add_argument(
        "--kind", choices=KINDS, default="model", help="what to write (default: model)"
    )
    for field in FIELDS:
        kinds = "all kinds" if field.kinds == KINDS else ", ".join(field.kinds)
        parser.add_argument(field.flag, dest=field.name, help=f"{field.help} ({kinds})")
    parser.add_argument(
        "--shared-volume",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="mount the dataset share (model, api; default: yes)",
    )
    parser.add_argument("--output", default="-", help="file to write, or - for stdout (default)")
    parser.add_argument(
        "--non-interactive", action="store_true", help="never ask: fail naming the missing flags"
    )
    return parser.parse_args(argv)


def resolve(args: argparse.Namespace, interactive: bool) -> Values:
    """The template values for args.kind: given, defaulted, or asked for (when interactive)."""
    kind: str = args.kind
    misplaced = [
        f.flag for f in FIELDS if kind not in f.kinds and getattr(args, f.name) is not None
    ]
    if args.shared_volume is not None and kind not in SERVICES:
        misplaced.append("--shared-volume")
    if misplaced:
        raise UsageError(f"not used by --kind {kind}: {', '.join(misplaced)}")
    fields = [f for f in FIELDS if kind in f.kinds]
    missing = [f.flag for f in fields if getattr(args, f.name) is None and f.default is None]
    if missing and not interactive:
        raise UsageError(f"missing {', '.join(missing)} (required for --kind {kind})")
    values: Values = {}
    for field in fields:
        values[field.name] = _value(field, getattr(args, field.name), values, kind)
    if kind in SERVICES:
        _check_service(values)
        model = str(values.pop("model", ""))
        values["model_service"] = model
        values["route_path"] = f"/{model}"
        values["mount_datasets"] = args.shared_volume is not False
    if kind != "shared":
        values.pop("app_name")
    return values


def _value(field: Field, text: str | None, values: Values, kind: str) -> Value:
    # Defaults go through the same check: a derived name must be valid too.
    if text is None and field.default is not None:
        text = str(field.default(values, kind))
    if text is None:
        try:
            text = input(f"{field.flag} ({field.help}): ").strip()
        except EOFError:
            raise UsageError(f"{field.flag}: no value given") from None
    try:
        return field.check(text)
    except ValueError as error:
        raise UsageError(f"{field.flag}: {error}") from None


def _check_service(values: Values) -> None:
    if int(values["max_replicas"]) < int(values["min_replicas"]):
        raise UsageError("--max-replicas must be at least --min-replicas")
    if str(values["max_surge"]).rstrip("%") == "0" == str(values["max_unavailable"]).rstrip("%"):
        raise UsageError("--max-surge and --max-unavailable cannot both be 0")


def generate(values: Mapping[str, Value], kind: str) -> str:
    """The rendered manifests of one kind."""
    return render(TEMPLATES_DIR / TEMPLATES[kind], values)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    interactive = not args.non_interactive and sys.stdin.isatty()
    try:
        values = resolve(args, interactive)
    except UsageError as error:
        print(f"service_gen: error: {error}", file=sys.stderr)
        return 2
    manifests = generate(values, args.kind)
    if args.output == "-":
        sys.stdout.write(manifests)
    else:
        Path(args.output).write_text(manifests, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
