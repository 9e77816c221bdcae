# Three storage accounts, each with the narrowest authentication its user allows:
#
# - data: the jobs queue and the results container. Entra ID only (shared keys off): the app,
#   the worker and KEDA use workload identity, the Function App its managed identity.
# - datasets: the Azure Files share with the dataset CSVs. The pods mount it through the Azure
#   Files CSI driver with workload identity (deployment/k8s/templates/shared.yaml): the driver
#   uses the app identity to fetch the account key at mount time and mounts over SMB with it, so
#   shared keys must stay enabled on this account (no key is stored in the cluster or the repo,
#   and the share holds only the published indicator data). The Flex Consumption app mounts it
#   too, with the key in its site configuration (function.tf, function_dataset_mount). It is a separate account so that
#   jobs and results stay keyless. The keyless alternative, mounting with the identity itself
#   (CSI `mountWithManagedIdentity`, SMB OAuth on the account), is in preview from AKS 1.34.
# - func: the Function App's host storage (its keys, leases), the deployment package Flex
#   Consumption runs (`deployment`) and every release the pipeline published (`releases`, for
#   rollbacks), all through managed identities. Shared keys off: Flex Consumption has no content
#   file share and reads its package with the app's identity.
#
# Containers, shares and queues are created through Azure Resource Manager (storage_account_id,
# provider feature data_plane_available = false), so Terraform never needs a key either.

locals {
  # Storage service diagnostic logs go to Log Analytics (classic Storage Analytics logging
  # needs data-plane access with a key).
  storage_diagnostics = {
    data_blob     = "${azurerm_storage_account.data.id}/blobServices/default"
    data_queue    = "${azurerm_storage_account.data.id}/queueServices/default"
    datasets_file = "${azurerm_storage_account.datasets.id}/fileServices/default"
    func_blob     = "${azurerm_storage_account.func.id}/blobServices/default"
  }
  release_container    = "releases"
  deployment_container = "deployment"
}

resource "azurerm_storage_account" "data" {
  #checkov:skip=CKV_AZURE_206:Zone-redundant (ZRS) by default: jobs, results and host state are regenerable and the dataset can be uploaded again; set storage_replication_type = "GZRS" for geo-redundancy.
  #checkov:skip=CKV_AZURE_33:Queue logging is the diagnostic setting below (Log Analytics); classic queue_properties logging needs shared-key data-plane access.
  #checkov:skip=CKV_AZURE_59:Public endpoint with Entra ID auth: AKS and the Flex Consumption app reach it without a VNet (none is deployed here).
  #checkov:skip=CKV2_AZURE_1:Encrypted with Microsoft-managed keys; customer-managed keys mean running a Key Vault for data that is not personal.
  #checkov:skip=CKV2_AZURE_33:No private endpoint: neither the cluster nor the Function App has a VNet here.
  name                              = "st${local.compact}data"
  location                          = azurerm_resource_group.this.location
  resource_group_name               = azurerm_resource_group.this.name
  account_kind                      = "StorageV2"
  account_tier                      = "Standard"
  account_replication_type          = var.storage_replication_type
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  allow_nested_items_to_be_public   = false
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  local_user_enabled                = false
  cross_tenant_replication_enabled  = false
  infrastructure_encryption_enabled = true
  public_network_access_enabled     = true

  blob_properties {
    delete_retention_policy {
      days = 7
    }
    container_delete_retention_policy {
      days = 7
    }
  }

  sas_policy {
    expiration_period = "00.01:00:00"
  }

  tags = local.tags
}

resource "azurerm_storage_queue" "jobs" {
  name               = var.jobs_queue_name
  storage_account_id = azurerm_storage_account.data.id
}

resource "azurerm_storage_container" "results" {
  #checkov:skip=CKV2_AZURE_21:Blob reads are logged by the account's diagnostic setting (allLogs, including StorageRead) below; azurerm_log_analytics_storage_insights, which this check wants, takes the account key.
  name                  = var.results_container_name
  storage_account_id    = azurerm_storage_account.data.id
  container_access_type = "private"
}

resource "azurerm_storage_container" "batch" {
  #checkov:skip=CKV2_AZURE_21:Blob reads are logged by the account's diagnostic setting (allLogs, including StorageRead) below; azurerm_log_analytics_storage_insights, which this check wants, takes the account key.
  # Batch output: the platform's precomputed model files (BATCH_CONTAINER), which the data API
  # publishes; private like the results.
  name                  = var.batch_container_name
  storage_account_id    = azurerm_storage_account.data.id
  container_access_type = "private"
}

resource "azurerm_storage_account" "datasets" {
  #checkov:skip=CKV_AZURE_206:Zone-redundant (ZRS) by default: jobs, results and host state are regenerable and the dataset can be uploaded again; set storage_replication_type = "GZRS" for geo-redundancy.
  #checkov:skip=CKV2_AZURE_40:Shared keys stay on: the Azure Files CSI driver mounts SMB with the account key, which it fetches at mount time with the workload identity (Storage Account Contributor). No key is stored anywhere; see the comment at the top of this file.
  #checkov:skip=CKV_AZURE_33:No queues in this account: it holds only the dataset file share, so there is no queue traffic to log.
  #checkov:skip=CKV_AZURE_59:Public endpoint with identity-based access: AKS nodes mount the share without a private network.
  #checkov:skip=CKV2_AZURE_1:Encrypted with Microsoft-managed keys; the share holds published indicator data.
  #checkov:skip=CKV2_AZURE_33:No private endpoint: the cluster has no private network.
  name                              = "st${local.compact}dset"
  location                          = azurerm_resource_group.this.location
  resource_group_name               = azurerm_resource_group.this.name
  account_kind                      = "StorageV2"
  account_tier                      = "Standard"
  account_replication_type          = var.storage_replication_type
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  allow_nested_items_to_be_public   = false
  shared_access_key_enabled         = true
  default_to_oauth_authentication   = true
  local_user_enabled                = false
  cross_tenant_replication_enabled  = false
  infrastructure_encryption_enabled = true
  public_network_access_enabled     = true

  blob_properties {
    delete_retention_policy {
      days = 7
    }
    container_delete_retention_policy {
      days = 7
    }
  }

  share_properties {
    retention_policy {
      days = 7
    }
  }

  sas_policy {
    expiration_period = "00.01:00:00"
  }

  tags = local.tags
}

resource "azurerm_storage_share" "datasets" {
  name               = var.dataset_share_name
  storage_account_id = azurerm_storage_account.datasets.id
  quota              = var.dataset_share_quota_gi
  enabled_protocol   = "SMB"
}

resource "azurerm_storage_account" "func" {
  #checkov:skip=CKV_AZURE_206:Zone-redundant (ZRS) by default: jobs, results and host state are regenerable and the dataset can be uploaded again; set storage_replication_type = "GZRS" for geo-redundancy.
  #checkov:skip=CKV_AZURE_33:No queues used by this Function App's host (HTTP and a queue trigger on the data account).
  #checkov:skip=CKV_AZURE_59:Public endpoint: the Function App has no VNet integration here; access is Entra ID only.
  #checkov:skip=CKV2_AZURE_1:Encrypted with Microsoft-managed keys; it holds host state and the deployment packages.
  #checkov:skip=CKV2_AZURE_33:No private endpoint: the Function App has no VNet here.
  name                              = "st${local.compact}func"
  location                          = azurerm_resource_group.this.location
  resource_group_name               = azurerm_resource_group.this.name
  account_kind                      = "StorageV2"
  account_tier                      = "Standard"
  account_replication_type          = var.storage_replication_type
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  allow_nested_items_to_be_public   = false
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  local_user_enabled                = false
  cross_tenant_replication_enabled  = false
  infrastructure_encryption_enabled = true
  public_network_access_enabled     = true

  blob_properties {
    delete_retention_policy {
      days = 7
    }
    container_delete_retention_policy {
      days = 7
    }
  }

  sas_policy {
    expiration_period = "00.01:00:00"
  }

  tags = local.tags
}

# Every package the pipeline published, as releases/<sha>.zip, and `releases/deployed` naming the
# one in service: a failed release is rolled back by publishing the previous one again.
resource "azurerm_storage_container" "releases" {
  #checkov:skip=CKV2_AZURE_21:Blob reads are logged by the account's diagnostic setting (allLogs, including StorageRead) below; azurerm_log_analytics_storage_insights, which this check wants, takes the account key.
  name                  = local.release_container
  storage_account_id    = azurerm_storage_account.func.id
  container_access_type = "private"
}

resource "azurerm_monitor_diagnostic_setting" "storage" {
  for_each = local.storage_diagnostics

  name                       = "to-log-analytics"
  target_resource_id         = each.value
  log_analytics_workspace_id = azurerm_log_analytics_workspace.this.id

  enabled_log {
    category_group = "allLogs"
  }
}

# The package Flex Consumption runs (functionAppConfig.deployment.storage, function.tf): written by
# `az functionapp deployment source config-zip`, read by the app with its identity.
resource "azurerm_storage_container" "deployment" {
  #checkov:skip=CKV2_AZURE_21:Blob reads are logged by the account's diagnostic setting (allLogs, including StorageRead) below; azurerm_log_analytics_storage_insights, which this check wants, takes the account key.
  name                  = local.deployment_container
  storage_account_id    = azurerm_storage_account.func.id
  container_access_type = "private"
}
