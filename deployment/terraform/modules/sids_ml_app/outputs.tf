output "namespace" {
  description = "Namespace of the app's objects."
  value       = var.namespace
}

output "image" {
  description = "Image the Deployments run."
  value       = var.image
}

output "gateway" {
  description = "Name of the Gateway (shared.yaml) the HTTPRoutes attach to."
  value       = local.gateway
}

output "deployments" {
  description = "Names of the Deployments (HTTP services and the worker)."
  value       = sort([for doc in local.workload_documents : doc.metadata.name if doc.kind == "Deployment"])
}

output "manifests" {
  description = "kind/namespace/name of every object this stage manages."
  value       = sort(concat(keys(local.shared_manifests), keys(local.workload_manifests)))
}
