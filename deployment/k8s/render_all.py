"""Write every manifest, with example values, into a folder: for offline checks (checkov).

    python -m deployment.k8s.render_all DIR

Renders through the generator's own path (`deployment.service_gen`), one file per output: the
shared resources, the main API with and without the dataset share, a per-model service for each
model under models/, and the worker. The example values are placeholders, not a real account.
"""

import argparse
import sys
from pathlib import Path

from common.serving.registry import available_model_names
from deployment import service_gen

EXAMPLE_IMAGE = "sidsmlexample.azurecr.io/sids-ml-backend:0123456789abcdef0123456789abcdef01234567"
# Two accounts, as Terraform creates them: the jobs queue and results, and the dataset share.
EXAMPLE_JOBS_ACCOUNT = "sidsmlexampledata"
EXAMPLE_SHARED = [
    "--storage-account",
    "sidsmlexampledatasets",
    "--blob-url",
    f"https://{EXAMPLE_JOBS_ACCOUNT}.blob.core.windows.net",
    "--queue-url",
    f"https://{EXAMPLE_JOBS_ACCOUNT}.queue.core.windows.net",
    "--identity-client-id",
    "00000000-0000-0000-0000-000000000000",
    "--storage-resource-group",
    "sids-ml-example",
    "--dataset-share",
    "datasets",
    "--dataset-share-size-gi",
    "100",
    "--tenant-id",
    "11111111-1111-1111-1111-111111111111",
    "--key-vault-name",
    "kv-sidsml-example",
    "--host-name",
    "api.sids-ml.example.org",
    "--tls-certificate-uri",
    "https://kv-sidsml-example.vault.azure.net/certificates/api-tls",
]


def example_arguments() -> dict[str, list[str]]:
    """The generator's arguments for each example file, by file name."""
    image = ["--image", EXAMPLE_IMAGE]
    examples = {
        "shared.yaml": ["--kind", "shared", *EXAMPLE_SHARED],
        "api.yaml": ["--kind", "api", *image],
        "api-no-share.yaml": ["--kind", "api", *image, "--no-shared-volume"],
        "worker.yaml": ["--kind", "worker", *image, "--storage-account", EXAMPLE_JOBS_ACCOUNT],
    }
    for model in available_model_names():
        examples[f"model-{model.lower()}.yaml"] = ["--kind", "model", "--model", model, *image]
    return examples


def render_all(folder: Path) -> list[Path]:
    """Write every example into folder; return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, arguments in example_arguments().items():
        path = folder / file_name
        status = service_gen.main([*arguments, "--non-interactive", "--output", str(path)])
        if status != 0:
            raise SystemExit(f"rendering {file_name} failed")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deployment.k8s.render_all", description=__doc__
    )
    parser.add_argument("folder", type=Path, help="where to write the manifests")
    for path in render_all(parser.parse_args(argv).folder):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
