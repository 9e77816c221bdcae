# The same code on the Flex Consumption plan (FC1): the `main` HTTP function and the queue-
# triggered `worker` function (host.json, main/, worker/).
#
# Why Flex Consumption, not Linux Consumption (Y1) as before: Linux Consumption gets no new
# language versions or features and retires on 30 September 2028. Flex Consumption is its
# successor and still a consumption plan (pay per execution, scale to zero): Python 3.12 and
# later, Azure Files mounts, identity-based deployment storage, VNet integration and 2 or 4 GB
# instances. What changes here:
# - Deployment: the plan reads the package from a blob container of the host storage account
#   (`deployment`) with the app's user-assigned identity; no WEBSITE_RUN_FROM_PACKAGE URL, no
#   account key. The pipeline publishes with `az functionapp deployment source config-zip` and
#   keeps every release in `releases` for a rollback (.github/workflows/deploy.yml).
# - Dataset: the dataset share is mounted at /mnt/datasets (function_dataset_mount), as on AKS,
#   so a new upload is served without a redeploy. Azure Files mounts take the account key (no
#   identity-based mount exists for App Service/Functions): it is read from Resource Manager by
#   Terraform, kept in the site's storage configuration and this state, never in the repo. With
#   function_dataset_mount = false nothing holds a key and the pipeline syncs the share into each
#   package, as on Linux Consumption.
# - Settings: the runtime is the site's functionAppConfig (runtime_name/runtime_version), not
#   FUNCTIONS_WORKER_RUNTIME; scale-out is maximum_instance_count, not app_scale_limit.
# - Admin keys: ADMIN_API_KEYS is a Key Vault reference, resolved with the same identity.

resource "azurerm_service_plan" "this" {
  #checkov:skip=CKV_AZURE_212:Instance counts are managed by the Flex Consumption platform (maximum_instance_count on the app), not set per plan.
  #checkov:skip=CKV_AZURE_225:Zone redundancy on Flex Consumption is a per-app setting in preview, not the plan's zone_balancing.
  name                = "asp-${local.base}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  os_type             = "Linux"
  sku_name            = "FC1"
  tags                = local.tags
}

locals {
  jobs_storage = {
    blob  = trimsuffix(azurerm_storage_account.data.primary_blob_endpoint, "/")
    queue = trimsuffix(azurerm_storage_account.data.primary_queue_endpoint, "/")
  }

  # Where the app reads the dataset: the mounted share, or the package the pipeline syncs it into.
  function_dataset_path = var.function_dataset_mount ? "/mnt/datasets" : "/home/site/wwwroot/datasets"

  # A Key Vault reference: the platform resolves it with key_vault_reference_identity_id.
  admin_keys_reference = "@Microsoft.KeyVault(VaultName=${azurerm_key_vault.this.name};SecretName=${var.admin_keys_secret_name})"

  function_app_settings = merge(
    {
      # App settings (common/core/settings.py). A missing dataset is an error that /readyz reports,
      # never the demo data.
      DATASET_PATH       = local.function_dataset_path
      DEMO_DATA_FALLBACK = "false"
      # With the share mounted, each instance picks up an uploaded dataset by itself, as the
      # pods do; a dataset baked into the package changes only with a redeploy.
      DATASET_CHECK_INTERVAL = var.function_dataset_mount ? "300" : "0"
      LOG_JSON           = "true"
      JOBS_QUEUE_NAME    = var.jobs_queue_name
      RESULTS_CONTAINER  = var.results_container_name
      BATCH_CONTAINER    = var.batch_container_name
      # POST /datasets/reload and /metrics need one of these keys (no METRICS_PUBLIC here: the
      # app is on the internet).
      ADMIN_API_KEYS = local.admin_keys_reference
      # The Functions front end appends the client's address to X-Forwarded-For: the per-client
      # limit (MAX_TRAININGS_PER_CLIENT) keys on it.
      TRUSTED_PROXIES = "1"
      # Trainings in the Functions host's Python worker itself: a Flex Consumption instance
      # serves one HTTP request of a Python app at a time (no cached answer waits on a training's
      # GIL) and the platform scales out by instances; worker processes would only add memory
      # (2 GB instances) and cold-start time.
      TRAINING_PROCESSES = "0"
      # No WARM_IMPUTERS (off): an instance starts on demand and often, and its start-up would
      # spend its first request's time submitting warm jobs. The AKS pods, which set it, share
      # this storage account, so the matrices they warm are the ones this app reads.

      # The `JobsStorage` connection of worker/function.json (the queue trigger) and of the
      # app's storage clients, as an identity-based connection: service URIs, no key.
      JobsStorage__blobServiceUri  = local.jobs_storage.blob
      JobsStorage__queueServiceUri = local.jobs_storage.queue
      JobsStorage__credential      = "managedidentity"
      JobsStorage__clientId        = azurerm_user_assigned_identity.func.client_id
      # DefaultAzureCredential in the app (azure-identity) picks the user-assigned identity.
      AZURE_CLIENT_ID = azurerm_user_assigned_identity.func.client_id

      # Host storage through the same identity (function_app_storage_uses_managed_identity sets
      # AzureWebJobsStorage__accountName).
      AzureWebJobsStorage__credential = "managedidentity"
      AzureWebJobsStorage__clientId   = azurerm_user_assigned_identity.func.client_id
    },
    var.application_insights_enabled ? {
      # Entra-authenticated telemetry (the App Insights resource accepts nothing else).
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING = "Authorization=AAD;ClientId=${azurerm_user_assigned_identity.func.client_id}"
    } : {},
  )
}

resource "azurerm_function_app_flex_consumption" "this" {
  #checkov:skip=CKV_AZURE_221:Public network access is the point: the SIDS data platform's browsers call this API.
  name                = "func-${local.base}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  service_plan_id     = azurerm_service_plan.this.id

  runtime_name           = "python"
  runtime_version        = var.function_python_version
  maximum_instance_count = var.function_max_instances
  instance_memory_in_mb  = var.function_instance_memory_mb
  https_only             = true

  # The deployment package: a container of the host storage account, read with the identity.
  storage_container_type            = "blobContainer"
  storage_container_endpoint        = "${trimsuffix(azurerm_storage_account.func.primary_blob_endpoint, "/")}/${azurerm_storage_container.deployment.name}"
  storage_authentication_type       = "UserAssignedIdentity"
  storage_user_assigned_identity_id = azurerm_user_assigned_identity.func.id

  # Host storage (AzureWebJobsStorage) through the same identity: no connection string.
  function_app_storage_account_name          = azurerm_storage_account.func.name
  function_app_storage_uses_managed_identity = true

  webdeploy_publish_basic_authentication_enabled = false

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.func.id]
  }
  key_vault_reference_identity_id = azurerm_user_assigned_identity.func.id

  site_config {
    minimum_tls_version                    = "1.2"
    scm_minimum_tls_version                = "1.2"
    http2_enabled                          = true
    application_insights_connection_string = var.application_insights_enabled ? azurerm_application_insights.this[0].connection_string : null
  }

  # The dataset share, read-only in use (the app never writes it), at DATASET_PATH.
  dynamic "storage_account" {
    for_each = var.function_dataset_mount ? [1] : []
    content {
      name         = "datasets"
      type         = "AzureFiles"
      account_name = azurerm_storage_account.datasets.name
      share_name   = azurerm_storage_share.datasets.name
      access_key   = azurerm_storage_account.datasets.primary_access_key
      mount_path   = local.function_dataset_path
    }
  }

  app_settings = local.function_app_settings

  tags = local.tags

  # The host reaches its storage, and resolves the Key Vault reference, as soon as it starts.
  depends_on = [azurerm_role_assignment.identities]
}
