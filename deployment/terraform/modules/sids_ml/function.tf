# The same code on the Linux Consumption plan (Y1): the `main` HTTP function and the queue-
# triggered `worker` function (host.json, main/, worker/).
#
# What Linux Consumption cannot do, and what this does instead:
# - Mount an Azure Files share. Storage mounts are not supported on the Consumption plan, and
#   where they are (Flex Consumption, Premium, Dedicated) they authenticate only with the account
#   key (Microsoft Learn, "Choose a file access strategy for Azure Functions"). So the dataset
#   ships inside the deployment package: the deploy workflow runs
#   `python -m common.dataset_share sync <package>/datasets` before zipping, and DATASET_PATH
#   points there. A new dataset therefore needs a new package (a redeploy), while the AKS pods
#   read the share itself (POST /datasets/reload or DATASET_CHECK_INTERVAL picks it up).
# - Identity-based host storage with zip deploy. With AzureWebJobsStorage__* (no key), Linux
#   Consumption runs from an external package URL only; the package blob is read with the
#   app's identity (WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID). There is no content share on
#   Linux Consumption (WEBSITE_CONTENTAZUREFILECONNECTIONSTRING is Windows/Premium only), so the
#   host storage account needs no key at all.
# - Python newer than 3.12, and new features: Linux Consumption is frozen and retires on
#   30 September 2028; Flex Consumption is the successor (new plan type, same code).

resource "azurerm_service_plan" "this" {
  #checkov:skip=CKV_AZURE_212:Instance counts are managed by the Consumption platform, not set per plan.
  #checkov:skip=CKV_AZURE_225:Zone redundancy is not offered on the Consumption plan.
  name                = "asp-${local.base}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  os_type             = "Linux"
  sku_name            = "Y1"
  tags                = local.tags
}

locals {
  jobs_storage = {
    blob  = trimsuffix(azurerm_storage_account.data.primary_blob_endpoint, "/")
    queue = trimsuffix(azurerm_storage_account.data.primary_queue_endpoint, "/")
  }

  function_app_settings = merge(
    {
      # App settings (common/settings.py). A package without the dataset is an error that
      # /readyz reports, never the demo data.
      DATASET_PATH       = var.function_dataset_path
      DEMO_DATA_FALLBACK = "false"
      LOG_JSON           = "true"
      JOBS_QUEUE_NAME    = var.jobs_queue_name
      RESULTS_CONTAINER  = var.results_container_name

      # The `JobsStorage` connection of worker/function.json (the queue trigger) and of the
      # app's storage clients, as an identity-based connection: service URIs, no key.
      JobsStorage__blobServiceUri  = local.jobs_storage.blob
      JobsStorage__queueServiceUri = local.jobs_storage.queue
      JobsStorage__credential      = "managedidentity"
      JobsStorage__clientId        = azurerm_user_assigned_identity.func.client_id
      # DefaultAzureCredential in the app (azure-identity) picks the user-assigned identity.
      AZURE_CLIENT_ID = azurerm_user_assigned_identity.func.client_id

      # Host storage through the same identity (storage_uses_managed_identity sets
      # AzureWebJobsStorage__accountName).
      AzureWebJobsStorage__credential = "managedidentity"
      AzureWebJobsStorage__clientId   = azurerm_user_assigned_identity.func.client_id

      # The package is fetched from the `releases` container with this identity.
      WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID = azurerm_user_assigned_identity.func.id
    },
    var.application_insights_enabled ? {
      # Entra-authenticated telemetry (the App Insights resource accepts nothing else).
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING = "Authorization=AAD;ClientId=${azurerm_user_assigned_identity.func.client_id}"
    } : {},
  )
}

resource "azurerm_linux_function_app" "this" {
  #checkov:skip=CKV_AZURE_221:Public network access is the point: the SIDS data platform's browsers call this API.
  name                = "func-${local.base}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  service_plan_id     = azurerm_service_plan.this.id

  functions_extension_version = "~4"
  https_only                  = true

  storage_account_name          = azurerm_storage_account.func.name
  storage_uses_managed_identity = true
  # AzureWebJobsDashboard (built-in logging) takes a connection string; logs go to App Insights.
  builtin_logging_enabled = false

  ftp_publish_basic_authentication_enabled       = false
  webdeploy_publish_basic_authentication_enabled = false

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.func.id]
  }

  site_config {
    # Sets FUNCTIONS_WORKER_RUNTIME=python and the Linux image; no app setting for it.
    application_stack {
      python_version = var.function_python_version
    }
    app_scale_limit                        = var.function_max_instances
    minimum_tls_version                    = "1.2"
    scm_minimum_tls_version                = "1.2"
    ftps_state                             = "Disabled"
    http2_enabled                          = true
    application_insights_connection_string = var.application_insights_enabled ? azurerm_application_insights.this[0].connection_string : null
  }

  app_settings = local.function_app_settings

  tags = local.tags

  lifecycle {
    # The deploy workflow owns the running version: it uploads releases/<sha>.zip and sets
    # WEBSITE_RUN_FROM_PACKAGE to that blob's URL (no SAS: the identity reads it). Terraform
    # leaves the setting alone so an apply never rolls the app back.
    ignore_changes = [app_settings["WEBSITE_RUN_FROM_PACKAGE"]]
  }

  # The host reaches its storage as soon as it starts.
  depends_on = [azurerm_role_assignment.identities]
}
