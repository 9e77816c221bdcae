# The Key Vault of the two secrets this deployment has, neither of which Terraform ever sees:
# - the admin keys (ADMIN_API_KEYS, secret var.admin_keys_secret_name), set by an operator with
#   `az keyvault secret set`; the Function App reads it through a Key Vault reference, the AKS
#   pods through the Secrets Store CSI driver (deployment/k8s/templates/shared.yaml);
# - the TLS certificate of the AKS Gateway (var.tls_certificate_name), imported or issued by an
#   operator; the application routing add-on fetches it as the app's service account.
# Azure RBAC only (no access policies): each identity gets the one data role it needs.

resource "azurerm_key_vault" "this" {
  #checkov:skip=CKV_AZURE_109:Network ACLs allow all sources: the Flex Consumption app (no VNet here) and the AKS add-ons reach it over the public endpoint; every request needs an Entra token and an RBAC data role.
  #checkov:skip=CKV_AZURE_189:Public network access stays on for the same reason; a private endpoint needs the VNet this deployment does not have.
  #checkov:skip=CKV2_AZURE_32:No private endpoint: the cluster and the Function App have no private network.
  name                          = "kv-${local.base}"
  location                      = azurerm_resource_group.this.location
  resource_group_name           = azurerm_resource_group.this.name
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  sku_name                      = "standard"
  rbac_authorization_enabled    = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = 30
  public_network_access_enabled = true

  network_acls {
    default_action = "Allow"
    bypass         = "AzureServices"
  }

  tags = local.tags
}

resource "azurerm_monitor_diagnostic_setting" "key_vault" {
  name                       = "to-log-analytics"
  target_resource_id         = azurerm_key_vault.this.id
  log_analytics_workspace_id = azurerm_log_analytics_workspace.this.id

  enabled_log {
    category_group = "audit"
  }
}

locals {
  # Operators set the admin keys and import the certificate; nobody else writes the vault.
  key_vault_operator_roles = merge(
    { for id in local.operators : "${id}-secrets" => { principal_id = id, role = "Key Vault Secrets Officer" } },
    { for id in local.operators : "${id}-certificates" => { principal_id = id, role = "Key Vault Certificates Officer" } },
  )
}

resource "azurerm_role_assignment" "key_vault_operators" {
  for_each = local.key_vault_operator_roles

  scope                = azurerm_key_vault.this.id
  role_definition_name = each.value.role
  principal_id         = each.value.principal_id
}
