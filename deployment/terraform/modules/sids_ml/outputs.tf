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

output "batch_container_name" {
  description = "Name of the batch output container."
  value       = azurerm_storage_container.batch.name
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
  description = "Name of the Flex Consumption Function App."
  value       = azurerm_function_app_flex_consumption.this.name
}

output "function_app_hostname" {
  description = "Default hostname of the Function App."
  value       = azurerm_function_app_flex_consumption.this.default_hostname
}

output "function_identity_client_id" {
  description = "Client id of the Function App's identity."
  value       = azurerm_user_assigned_identity.func.client_id
}

output "function_storage_account_name" {
  description = "Host storage account of the Function App (packages in its releases container)."
  value       = azurerm_storage_account.func.name
}

output "function_dataset_in_package" {
  description = "\"true\" when the Function App does not mount the share and each package carries the dataset."
  value       = var.function_dataset_mount ? "false" : "true"
}

output "key_vault_name" {
  description = "Key Vault of the admin keys and the Gateway's TLS certificate."
  value       = azurerm_key_vault.this.name
}

output "key_vault_uri" {
  description = "URI of the Key Vault."
  value       = azurerm_key_vault.this.vault_uri
}

output "tls_certificate_uri" {
  description = "Unversioned URI of the Gateway's certificate (the add-on follows its renewals)."
  value       = "${trimsuffix(azurerm_key_vault.this.vault_uri, "/")}/certificates/${var.tls_certificate_name}"
}

output "admin_keys_secret_name" {
  description = "Key Vault secret holding ADMIN_API_KEYS."
  value       = var.admin_keys_secret_name
}

output "api_host_name" {
  description = "Public host name of the AKS Gateway."
  value       = var.api_host_name
}

output "function_release_container_url" {
  description = "Container the pipeline keeps every release in (releases/<sha>.zip) for rollbacks."
  value       = "${trimsuffix(azurerm_storage_account.func.primary_blob_endpoint, "/")}/${azurerm_storage_container.releases.name}"
}

output "github_deploy_principal_id" {
  description = "Object id of the GitHub deploy identity (stage 2 binds its namespace Role to it); null when github_repository is empty."
  value       = one(azurerm_user_assigned_identity.github[*].principal_id)
}

output "github_deploy_client_id" {
  description = "Client id of the GitHub deploy identity; null when github_repository is empty."
  value       = one(azurerm_user_assigned_identity.github[*].client_id)
}

output "log_analytics_workspace_id" {
  description = "Log Analytics workspace of the cluster, the Function App and the storage logs."
  value       = azurerm_log_analytics_workspace.this.id
}

output "keda_operator_credential_id" {
  description = "Federated credential of the KEDA operator on the app identity; stage 2 restarts the operator when it changes."
  value       = azurerm_federated_identity_credential.app["keda-operator"].id
}
