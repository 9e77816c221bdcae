output "subscription_id" {
  description = "Subscription of the deployment."
  value       = data.azurerm_client_config.current.subscription_id
}

output "tenant_id" {
  description = "Entra tenant of the identities."
  value       = data.azurerm_client_config.current.tenant_id
}

output "resource_group_name" {
  description = "Resource group holding every resource."
  value       = azurerm_resource_group.this.name
}

output "location" {
  description = "Azure region."
  value       = azurerm_resource_group.this.location
}

output "aks_name" {
  description = "Name of the AKS cluster."
  value       = azurerm_kubernetes_cluster.this.name
}

output "aks_oidc_issuer_url" {
  description = "OIDC issuer of the cluster's service account tokens (workload identity)."
  value       = azurerm_kubernetes_cluster.this.oidc_issuer_url
}

output "aks_host" {
  description = "API server URL, for the kubernetes provider of stage 2."
  value       = azurerm_kubernetes_cluster.this.kube_config[0].host
  sensitive   = true
}

output "aks_cluster_ca_certificate" {
  description = "Base64 CA certificate of the API server, for the kubernetes provider of stage 2."
  value       = azurerm_kubernetes_cluster.this.kube_config[0].cluster_ca_certificate
  sensitive   = true
}

output "acr_name" {
  description = "Name of the container registry."
  value       = azurerm_container_registry.this.name
}

output "acr_login_server" {
  description = "Login server of the container registry (image prefix)."
  value       = azurerm_container_registry.this.login_server
}

output "storage_account_name" {
  description = "Keyless account of the jobs queue and the results container."
  value       = azurerm_storage_account.data.name
}

output "storage_blob_endpoint" {
  description = "Blob endpoint of the data account (AZURE_STORAGE_BLOB_URL)."
  value       = local.jobs_storage.blob
}

output "storage_queue_endpoint" {
  description = "Queue endpoint of the data account (AZURE_STORAGE_QUEUE_URL)."
  value       = local.jobs_storage.queue
}

output "jobs_queue_name" {
  description = "Name of the jobs queue."
  value       = azurerm_storage_queue.jobs.name
}

output "results_container_name" {
  description = "Name of the results container."
  value       = azurerm_storage_container.results.name
}

output "dataset_storage_account_name" {
  description = "Account of the dataset share (the PersistentVolume's storageAccount)."
  value       = azurerm_storage_account.datasets.name
}

output "dataset_file_endpoint" {
  description = "File endpoint of the dataset account (AZURE_STORAGE_FILE_URL of the share CLI)."
  value       = trimsuffix(azurerm_storage_account.datasets.primary_file_endpoint, "/")
}

output "dataset_share_name" {
  description = "Name of the dataset share (DATASET_SHARE)."
  value       = azurerm_storage_share.datasets.name
}

output "dataset_share_quota_gi" {
  description = "Quota of the dataset share in GiB."
  value       = azurerm_storage_share.datasets.quota
}

output "app_identity_client_id" {
  description = "Client id of the app identity (service account annotation, KEDA identityId)."
  value       = azurerm_user_assigned_identity.app.client_id
}

output "app_namespace" {
  description = "Namespace the app identity is federated with."
  value       = var.app_namespace
}

output "app_service_account" {
  description = "Service account the app identity is federated with."
  value       = var.app_service_account
}

output "function_app_name" {
  description = "Name of the Consumption-plan Function App."
  value       = azurerm_linux_function_app.this.name
}

output "function_app_hostname" {
  description = "Default hostname of the Function App."
  value       = azurerm_linux_function_app.this.default_hostname
}

output "function_identity_client_id" {
  description = "Client id of the Function App's identity."
  value       = azurerm_user_assigned_identity.func.client_id
}

output "function_storage_account_name" {
  description = "Host storage account of the Function App (packages in its releases container)."
  value       = azurerm_storage_account.func.name
}

output "function_release_container_url" {
  description = "Container the deploy workflow uploads releases/<sha>.zip to."
  value       = "${trimsuffix(azurerm_storage_account.func.primary_blob_endpoint, "/")}/${azurerm_storage_container.releases.name}"
}

output "github_deploy_client_id" {
  description = "Client id of the GitHub deploy identity; null when github_repository is empty."
  value       = one(azurerm_user_assigned_identity.github[*].client_id)
}

output "log_analytics_workspace_id" {
  description = "Log Analytics workspace of the cluster, the Function App and the storage logs."
  value       = azurerm_log_analytics_workspace.this.id
}
