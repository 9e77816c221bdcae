"""Kubernetes manifests of the service, as templates shared with Terraform.

`templates/shared.yaml` (once per namespace), `templates/service.yaml` (the main API, and once per
per-model service) and `templates/worker.yaml` (the queue worker) are rendered by Terraform's
`templatefile()` and by `deployment.k8s.render.render`, which implements the same small subset of
Terraform's template syntax (see `render`). `python -m deployment.k8s.render_all <dir>` writes
every manifest with example values, for offline validation (checkov, kubernetes-validate).
"""
