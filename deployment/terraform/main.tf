# The root of stage 1: providers, inputs and outputs around the reusable module. The app's
# Kubernetes and KEDA manifests are stage 2 (./app), applied once the cluster exists.

module "sids_ml" {
  source = "./modules/sids_ml"

  name_prefix = var.name_prefix
  environment = var.environment
  location    = var.location
  tags        = var.tags

  kubernetes_version              = var.kubernetes_version
  aks_sku_tier                    = var.aks_sku_tier
  aks_upgrade_channel             = var.aks_upgrade_channel
  node_vm_size                    = var.node_vm_size
  node_min_count                  = var.node_min_count
  node_max_count                  = var.node_max_count
  node_max_pods                   = var.node_max_pods
  node_os_disk_size_gb            = var.node_os_disk_size_gb
  node_zones                      = var.node_zones
  host_encryption_enabled         = var.host_encryption_enabled
  api_server_authorized_ip_ranges = var.api_server_authorized_ip_ranges
  operator_object_ids             = var.operator_object_ids
  grant_terraform_runner_access   = var.grant_terraform_runner_access

  acr_sku                  = var.acr_sku
  log_retention_days       = var.log_retention_days
  storage_replication_type = var.storage_replication_type

  app_namespace          = var.app_namespace
  app_service_account    = var.app_service_account
  dataset_share_name     = var.dataset_share_name
  dataset_share_quota_gi = var.dataset_share_quota_gi
  jobs_queue_name        = var.jobs_queue_name
  results_container_name = var.results_container_name
  batch_container_name   = var.batch_container_name

  function_python_version      = var.function_python_version
  function_max_instances       = var.function_max_instances
  function_instance_memory_mb  = var.function_instance_memory_mb
  function_dataset_mount       = var.function_dataset_mount
  application_insights_enabled = var.application_insights_enabled

  api_host_name          = var.api_host_name
  tls_certificate_name   = var.tls_certificate_name
  admin_keys_secret_name = var.admin_keys_secret_name

  github_repository  = var.github_repository
  github_environment = var.github_environment
}
