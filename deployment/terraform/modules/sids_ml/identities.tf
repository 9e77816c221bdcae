# Managed identities and their data-plane roles. Nothing in this deployment holds a storage key:
# the AKS pods act as the app identity through workload identity, the Function App as its own
# user-assigned identity.

# The app identity: the HTTP pods and workers on AKS (service account annotated with its client
# id in deployment/k8s/templates/shared.yaml), KEDA's queue scaler (TriggerAuthentication), the
# admin keys' SecretProviderClass and the Gateway's certificate.
resource "azurerm_user_assigned_identity" "app" {
  name                = "id-${local.base}-app"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  tags                = local.tags
}

locals {
  # Kubernetes service accounts allowed to act as the app identity: the app's own, and the KEDA
  # add-on's operator, which reads the queue length with the identity named by the
  # TriggerAuthentication (podIdentity.provider azure-workload).
  app_federated_subjects = {
    app           = "system:serviceaccount:${var.app_namespace}:${var.app_service_account}"
    keda-operator = "system:serviceaccount:kube-system:keda-operator"
  }
}

# user_assigned_identity_id (not the deprecated parent_id, and no resource_group_name, which the
# identity's id already holds): the form azurerm 4.x's last line and 5.x both accept.
resource "azurerm_federated_identity_credential" "app" {
  for_each = local.app_federated_subjects

  name                      = each.key
  user_assigned_identity_id = azurerm_user_assigned_identity.app.id
  issuer                    = azurerm_kubernetes_cluster.this.oidc_issuer_url
  subject                   = each.value
  audience                  = ["api://AzureADTokenExchange"]
}

# The Function App's identity: its host storage, the package, the jobs and results, telemetry.
# Separate from the app identity so that the cluster can never read the Function host's keys.
resource "azurerm_user_assigned_identity" "func" {
  name                = "id-${local.base}-func"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  tags                = local.tags
}

locals {
  # principal => role => scope. Each is the least a documented path needs:
  # - Blob Data Contributor / Queue Data Contributor on the data account: job records and
  #   results, enqueue and dequeue (the Functions queue trigger needs Queue Data Contributor);
  #   KEDA reads the queue length with the same role.
  # - Storage Account Contributor on the datasets account: the Azure Files CSI driver's
  #   workload identity mount lists the account key with it (see storage.tf).
  # - Blob Data Owner on the func account: the minimum Azure Functions documents for
  #   identity-based host storage (AzureWebJobsStorage__*); it also reads the deployment package.
  # - Key Vault Secrets User: the app identity reads the admin keys (CSI driver) and, with Key
  #   Vault Certificate User, the Gateway's certificate (a certificate's key is read as a
  #   secret); the Function App's identity resolves its ADMIN_API_KEYS reference.
  data_role_assignments = merge(
    {
      app_blob = {
        principal_id = azurerm_user_assigned_identity.app.principal_id
        role         = "Storage Blob Data Contributor"
        scope        = azurerm_storage_account.data.id
      }
      app_queue = {
        principal_id = azurerm_user_assigned_identity.app.principal_id
        role         = "Storage Queue Data Contributor"
        scope        = azurerm_storage_account.data.id
      }
      app_dataset_mount = {
        principal_id = azurerm_user_assigned_identity.app.principal_id
        role         = "Storage Account Contributor"
        scope        = azurerm_storage_account.datasets.id
      }
      func_blob = {
        principal_id = azurerm_user_assigned_identity.func.principal_id
        role         = "Storage Blob Data Contributor"
        scope        = azurerm_storage_account.data.id
      }
      func_queue = {
        principal_id = azurerm_user_assigned_identity.func.principal_id
        role         = "Storage Queue Data Contributor"
        scope        = azurerm_storage_account.data.id
      }
      func_host = {
        principal_id = azurerm_user_assigned_identity.func.principal_id
        role         = "Storage Blob Data Owner"
        scope        = azurerm_storage_account.func.id
      }
      app_key_vault_secrets = {
        principal_id = azurerm_user_assigned_identity.app.principal_id
        role         = "Key Vault Secrets User"
        scope        = azurerm_key_vault.this.id
      }
      app_key_vault_certificates = {
        principal_id = azurerm_user_assigned_identity.app.principal_id
        role         = "Key Vault Certificate User"
        scope        = azurerm_key_vault.this.id
      }
      func_key_vault_secrets = {
        principal_id = azurerm_user_assigned_identity.func.principal_id
        role         = "Key Vault Secrets User"
        scope        = azurerm_key_vault.this.id
      }
    },
    var.application_insights_enabled ? {
      func_telemetry = {
        principal_id = azurerm_user_assigned_identity.func.principal_id
        role         = "Monitoring Metrics Publisher"
        scope        = azurerm_application_insights.this[0].id
      }
    } : {},
  )
}

resource "azurerm_role_assignment" "identities" {
  for_each = local.data_role_assignments

  scope                            = each.value.scope
  role_definition_name             = each.value.role
  principal_id                     = each.value.principal_id
  principal_type                   = "ServicePrincipal"
  skip_service_principal_aad_check = true
}

# Operators upload the dataset with `python -m common.data.dataset_share upload` (the Azure Files
# REST API with an Entra token, which needs a privileged file data role).
resource "azurerm_role_assignment" "dataset_operators" {
  for_each = local.operators

  scope                = azurerm_storage_account.datasets.id
  role_definition_name = "Storage File Data Privileged Contributor"
  principal_id         = each.value
}
