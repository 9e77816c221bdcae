# Stage 2: everything about the cluster and the storage comes from stage 1's state; this stage
# adds only the image tag and the workload sizes.

data "terraform_remote_state" "infra" {
  backend = var.infra_state_backend
  config  = var.infra_state_config
}

locals {
  infra = data.terraform_remote_state.infra.outputs
}

module "sids_ml_app" {
  source = "../modules/sids_ml_app"

  app_name        = var.app_name
  namespace       = local.infra.app_namespace
  service_account = local.infra.app_service_account

  identity_client_id      = local.infra.identity_client_id
  dataset_storage_account = local.infra.dataset_storage_account_name
  storage_resource_group  = local.infra.resource_group_name
  dataset_share           = local.infra.dataset_share_name
  dataset_share_size_gi   = local.infra.dataset_share_quota_gi
  jobs_storage_account    = local.infra.storage_account_name
  blob_url                = local.infra.storage_blob_endpoint
  queue_url               = local.infra.storage_queue_endpoint
  jobs_queue              = local.infra.jobs_queue_name
  results_container       = local.infra.results_container_name
  batch_container         = local.infra.batch_container_name

  # The Gateway's TLS listener and the admin keys, both from stage 1's Key Vault.
  tenant_id           = local.infra.tenant_id
  key_vault_name      = local.infra.key_vault_name
  admin_keys_secret   = local.infra.admin_keys_secret_name
  host_name           = local.infra.api_host_name
  tls_certificate_uri = local.infra.tls_certificate_uri

  keda_operator_credential_id = local.infra.keda_operator_credential_id
  deploy_principal_id         = local.infra.github_deploy_principal_id

  # Terraform owns the running tag: the deploy workflow applies this stage with
  # -var image_tag=<commit SHA> (README). A `kubectl set image` would be undone by the next
  # apply, and ignore_changes cannot protect a field inside kubernetes_manifest (it is a
  # dynamic object; hashicorp/terraform-provider-kubernetes#1378, #2665).
  image = "${local.infra.acr_login_server}/${var.image_repository}:${var.image_tag}"

  api                   = var.api
  model_services        = var.model_services
  worker                = var.worker
  manage_workloads      = var.manage_workloads
  restart_keda_operator = var.restart_keda_operator
  wait_for_rollout      = var.wait_for_rollout
}
