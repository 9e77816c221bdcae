"""Deployment of the service: Kubernetes manifests (`deployment.k8s`) and their generator
(`python -m deployment.service_gen`). Nothing here is imported by the app itself."""
