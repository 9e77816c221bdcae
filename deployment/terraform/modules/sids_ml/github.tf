# Optional: the identity GitHub Actions deploys with, through OIDC federation (no client secret).
# Only workflow runs of var.github_repository in the GitHub environment var.github_environment
# can obtain a token for it.

locals {
  github_enabled = var.github_repository != ""

  # What the pipeline (.github/workflows/deploy.yml) does, and the least role each step needs:
  # - push the image: AcrPush on the registry;
  # - fetch a kubeconfig: Cluster User Role (listClusterUserCredential) on the cluster, which
  #   grants no Kubernetes rights by itself;
  # - apply, wait for and undo the API and worker rollouts: RBAC Writer scoped to the app's
  #   namespace only (no cluster-scoped objects, no RBAC objects, no other namespace); the
  #   ScaledObjects and HTTPRoutes (custom kinds) by a Role of stage 2 in the same namespace;
  # - check that the KEDA operator has its workload identity token: RBAC Reader scoped to
  #   kube-system;
  # - publish releases/<sha>.zip and restore a previous one: Blob Data Contributor on the
  #   releases container, Website Contributor on the Function App (config-zip);
  # - with function_dataset_mount off, sync the dataset share into the package: a privileged
  #   file data reader role (the Azure Files REST API with an Entra token needs it).
  # Stage 2 (the namespace's shared objects, the PersistentVolume) stays with the operators.
  github_deploy_roles = merge(
    {
      acr_push = {
        role  = "AcrPush"
        scope = azurerm_container_registry.this.id
      }
      aks_user = {
        role  = "Azure Kubernetes Service Cluster User Role"
        scope = azurerm_kubernetes_cluster.this.id
      }
      aks_app_namespace = {
        role  = "Azure Kubernetes Service RBAC Writer"
        scope = "${azurerm_kubernetes_cluster.this.id}/namespaces/${var.app_namespace}"
      }
      aks_keda_check = {
        role  = "Azure Kubernetes Service RBAC Reader"
        scope = "${azurerm_kubernetes_cluster.this.id}/namespaces/kube-system"
      }
      releases = {
        role  = "Storage Blob Data Contributor"
        scope = "${azurerm_storage_account.func.id}/blobServices/default/containers/${azurerm_storage_container.releases.name}"
      }
      function_app = {
        role  = "Website Contributor"
        scope = azurerm_function_app_flex_consumption.this.id
      }
    },
    var.function_dataset_mount ? {} : {
      datasets = {
        role  = "Storage File Data Privileged Reader"
        scope = azurerm_storage_account.datasets.id
      }
    },
  )
  github_role_assignments = local.github_enabled ? local.github_deploy_roles : {}
}

resource "azurerm_user_assigned_identity" "github" {
  count = local.github_enabled ? 1 : 0

  name                = "id-${local.base}-github"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  tags                = local.tags
}

resource "azurerm_federated_identity_credential" "github" {
  count = local.github_enabled ? 1 : 0

  name                      = "github-${var.github_environment}"
  user_assigned_identity_id = azurerm_user_assigned_identity.github[0].id
  issuer                    = "https://token.actions.githubusercontent.com"
  subject                   = "repo:${var.github_repository}:environment:${var.github_environment}"
  audience                  = ["api://AzureADTokenExchange"]
}

resource "azurerm_role_assignment" "github" {
  for_each = local.github_role_assignments

  scope                            = each.value.scope
  role_definition_name             = each.value.role
  principal_id                     = azurerm_user_assigned_identity.github[0].principal_id
  principal_type                   = "ServicePrincipal"
  skip_service_principal_aad_check = true
}
