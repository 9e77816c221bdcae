output "namespace" {
  description = "Namespace of the app's objects."
  value       = module.sids_ml_app.namespace
}

output "image" {
  description = "Image the Deployments run (the registry, repository and image_tag)."
  value       = module.sids_ml_app.image
}

output "deployments" {
  description = "Deployments to watch, e.g. `kubectl -n <namespace> rollout status deploy/<name>`."
  value       = module.sids_ml_app.deployments
}

output "manifests" {
  description = "Every object this stage manages, as kind/namespace/name."
  value       = module.sids_ml_app.manifests
}

output "gateway_address_command" {
  description = "Prints the public address of the Gateway once the add-on has programmed it (point api_host_name's DNS record there)."
  value       = "kubectl get gateway ${module.sids_ml_app.gateway} -n ${module.sids_ml_app.namespace} -o jsonpath='{.status.addresses[0].value}'"
}
