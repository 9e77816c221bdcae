# What operators, stage 2 (./app, through terraform_remote_state) and the GitHub deploy
# workflow need. `terraform output github_actions_variables` lists the repository variables.

output "resource_group_name" {
  description = "Resource group holding every resource."
  value       = module.sids_ml.resource_group_name
}

output "aks_name" {
  description = "Name of the AKS cluster."
  value       = module.sids_ml.aks_name
}

output "aks_oidc_issuer_url" {
  description = "OIDC issuer URL of the cluster (workload identity federation)."
  value       = module.sids_ml.aks_oidc_issuer_url
}

output "aks_host" {
  description = "API server URL (stage 2's kubernetes provider)."
  value       = module.sids_ml.aks_host
  sensitive   = true
}

output "aks_cluster_ca_certificate" {
  description = "Base64 CA certificate of the API server (stage 2's kubernetes provider)."
  value       = module.sids_ml.aks_cluster_ca_certificate
  sensitive   = true
}

output "kubectl_credentials_command" {
  description = "Gets a kubeconfig for the cluster: Entra ID sign-in through kubelogin (local accounts are disabled)."
  value       = "az aks get-credentials --resource-group ${module.sids_ml.resource_group_name} --name ${module.sids_ml.aks_name} && kubelogin convert-kubeconfig -l azurecli"
}

output "autoscaler_update_command" {
  description = "Template of the command that retunes the node autoscaler after creation (Terraform ignores later changes to node_min_count/node_max_count)."
  value       = "az aks update --resource-group ${module.sids_ml.resource_group_name} --name ${module.sids_ml.aks_name} --update-cluster-autoscaler --min-count N --max-count M"
}

output "acr_login_server" {
  description = "Login server of the container registry (image prefix)."
  value       = module.sids_ml.acr_login_server
}

output "storage_account_name" {
  description = "Keyless account of the jobs queue and the results container (worker.yaml's storage_account)."
  value       = module.sids_ml.storage_account_name
}

output "storage_blob_endpoint" {
  description = "AZURE_STORAGE_BLOB_URL (shared.yaml's blob_url)."
  value       = module.sids_ml.storage_blob_endpoint
}

output "storage_queue_endpoint" {
  description = "AZURE_STORAGE_QUEUE_URL (shared.yaml's queue_url)."
  value       = module.sids_ml.storage_queue_endpoint
}

output "jobs_queue_name" {
  description = "Name of the jobs queue."
  value       = module.sids_ml.jobs_queue_name
}

output "results_container_name" {
  description = "Name of the results container."
  value       = module.sids_ml.results_container_name
}

output "batch_container_name" {
  description = "Name of the batch output container (stage 2 reads it)."
  value       = module.sids_ml.batch_container_name
}

output "dataset_storage_account_name" {
  description = "Account of the dataset share (shared.yaml's storage_account)."
  value       = module.sids_ml.dataset_storage_account_name
}

output "dataset_file_endpoint" {
  description = "AZURE_STORAGE_FILE_URL for `python -m common.data.dataset_share upload|sync`."
  value       = module.sids_ml.dataset_file_endpoint
}

output "dataset_share_name" {
  description = "Name of the dataset share (DATASET_SHARE)."
  value       = module.sids_ml.dataset_share_name
}

output "dataset_share_quota_gi" {
  description = "Quota of the dataset share in GiB."
  value       = module.sids_ml.dataset_share_quota_gi
}

output "identity_client_id" {
  description = "Client id of the app identity: the pods' service account annotation and KEDA's identityId."
  value       = module.sids_ml.app_identity_client_id
}

output "app_namespace" {
  description = "Namespace the app identity is federated with (stage 2 deploys there)."
  value       = module.sids_ml.app_namespace
}

output "app_service_account" {
  description = "Service account the app identity is federated with."
  value       = module.sids_ml.app_service_account
}

output "function_app_name" {
  description = "Name of the Flex Consumption Function App."
  value       = module.sids_ml.function_app_name
}

output "function_app_hostname" {
  description = "Hostname of the Function App (https://<hostname>/healthz)."
  value       = module.sids_ml.function_app_hostname
}

output "function_release_container_url" {
  description = "Where the pipeline keeps releases/<sha>.zip (the rollback restores the previous one)."
  value       = module.sids_ml.function_release_container_url
}

output "tenant_id" {
  description = "Entra tenant of the identities and the Key Vault (shared.yaml's tenant_id)."
  value       = module.sids_ml.tenant_id
}

output "key_vault_name" {
  description = "Key Vault of the admin keys (`az keyvault secret set --vault-name <this> --name admin-api-keys`) and the TLS certificate."
  value       = module.sids_ml.key_vault_name
}

output "admin_keys_secret_name" {
  description = "Key Vault secret holding ADMIN_API_KEYS (comma-separated)."
  value       = module.sids_ml.admin_keys_secret_name
}

output "tls_certificate_uri" {
  description = "Unversioned Key Vault URI of the Gateway's certificate."
  value       = module.sids_ml.tls_certificate_uri
}

output "github_deploy_principal_id" {
  description = "Object id of the pipeline's deploy identity: stage 2 lets it apply the namespace's ScaledObjects and HTTPRoutes."
  value       = module.sids_ml.github_deploy_principal_id
}

output "keda_operator_credential_id" {
  description = "The KEDA operator's federated credential (stage 2 restarts the operator after it is created, as AKS's docs require)."
  value       = module.sids_ml.keda_operator_credential_id
}

output "api_host_name" {
  description = "Public host name of the AKS Gateway (point its DNS record at the Gateway's address)."
  value       = module.sids_ml.api_host_name
}

output "github_actions_variables" {
  description = "Repository (or environment) variables of the pipeline (.github/workflows/deploy.yml); none is a secret."
  value = {
    AZURE_CLIENT_ID                = module.sids_ml.github_deploy_client_id
    AZURE_TENANT_ID                = module.sids_ml.tenant_id
    AZURE_SUBSCRIPTION_ID          = module.sids_ml.subscription_id
    ACR_LOGIN_SERVER               = module.sids_ml.acr_login_server
    AKS_RESOURCE_GROUP             = module.sids_ml.resource_group_name
    AKS_CLUSTER_NAME               = module.sids_ml.aks_name
    K8S_NAMESPACE                  = module.sids_ml.app_namespace
    WORKLOAD_IDENTITY_CLIENT_ID    = module.sids_ml.app_identity_client_id
    JOBS_STORAGE_ACCOUNT           = module.sids_ml.storage_account_name
    STORAGE_BLOB_URL               = module.sids_ml.storage_blob_endpoint
    STORAGE_QUEUE_URL              = module.sids_ml.storage_queue_endpoint
    DATASET_STORAGE_ACCOUNT        = module.sids_ml.dataset_storage_account_name
    DATASET_SHARE                  = module.sids_ml.dataset_share_name
    DATASET_SHARE_QUOTA_GI         = module.sids_ml.dataset_share_quota_gi
    DATASET_FILE_URL               = module.sids_ml.dataset_file_endpoint
    FUNCTION_APP_NAME              = module.sids_ml.function_app_name
    FUNCTION_RELEASE_CONTAINER_URL = module.sids_ml.function_release_container_url
    FUNCTION_DATASET_IN_PACKAGE    = module.sids_ml.function_dataset_in_package
    API_HOST_NAME                  = module.sids_ml.api_host_name
  }
}
