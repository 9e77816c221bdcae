# Resource group and monitoring. The other resources are in aks.tf, acr.tf, storage.tf,
# identities.tf, keyvault.tf, function.tf and github.tf.

locals {
  # "sidsml-prod" for names that allow hyphens, "sidsmlprod" for the ones that do not
  # (storage accounts, the registry). Both stay within Azure's length limits given the
  # validations on name_prefix and environment.
  base    = "${var.name_prefix}-${var.environment}"
  compact = "${var.name_prefix}${var.environment}"

  tags = merge(
    {
      application = "sids-ml-backend"
      environment = var.environment
      managed_by  = "terraform"
    },
    var.tags,
  )

  # Entra principals that operate the service: the operators, and the identity running
  # Terraform so that it can apply stage 2 (the manifests) and upload the first dataset.
  operators = toset(concat(
    var.operator_object_ids,
    var.grant_terraform_runner_access ? [data.azurerm_client_config.current.object_id] : [],
  ))
}

data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "this" {
  name     = "rg-${local.base}"
  location = var.location
  tags     = local.tags
}

resource "azurerm_log_analytics_workspace" "this" {
  name                = "log-${local.base}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  # Only Entra ID: the AKS monitoring agent authenticates with its managed identity
  # (oms_agent.msi_auth_for_monitoring_enabled), so the workspace keys are never needed.
  local_authentication_enabled = false
  tags                         = local.tags
}

resource "azurerm_application_insights" "this" {
  count = var.application_insights_enabled ? 1 : 0

  name                = "appi-${local.base}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  workspace_id        = azurerm_log_analytics_workspace.this.id
  application_type    = "web"
  # Telemetry is accepted only with an Entra token (the Function App's identity, see
  # APPLICATIONINSIGHTS_AUTHENTICATION_STRING), so the connection string is not a credential.
  # local_authentication_enabled, not the deprecated local_authentication_disabled.
  local_authentication_enabled = false
  tags                         = local.tags
}
