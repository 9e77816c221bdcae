# Optional: the identity GitHub Actions deploys with, through OIDC federation (no client secret).
# Only workflow runs of var.github_repository in the GitHub environment var.github_environment
# can obtain a token for it.

locals {
  github_enabled = var.github_repository != ""

  # What the deploy workflow does, and the role each step needs:
  # - push the image (AcrPush);
  # - apply stage 2, deployment/terraform/app, with the new image tag (AKS RBAC Cluster Admin:
  #   it manages cluster-scoped objects too);
  # - upload releases/<sha>.zip and point the Function App at it (Blob Data Contributor on
  #   the releases container, Website Contributor on the app);
  # - sync the dataset share into the package, or upload a new dataset (privileged file role);
  # - read stage 1's state and write stage 2's (the state container, when given).
  github_deploy_roles = {
    acr_push = {
      role  = "AcrPush"
      scope = azurerm_container_registry.this.id
    }
    aks_admin = {
      role  = "Azure Kubernetes Service RBAC Cluster Admin"
      scope = azurerm_kubernetes_cluster.this.id
    }
    releases = {
      role  = "Storage Blob Data Contributor"
      scope = "${azurerm_storage_account.func.id}/blobServices/default/containers/${azurerm_storage_container.releases.name}"
    }
    function_app = {
      role  = "Website Contributor"
      scope = azurerm_linux_function_app.this.id
    }
    datasets = {
      role  = "Storage File Data Privileged Contributor"
      scope = azurerm_storage_account.datasets.id
    }
  }
  github_state_role = var.terraform_state_container_id == "" ? {} : {
    terraform_state = {
      role  = "Storage Blob Data Contributor"
      scope = var.terraform_state_container_id
    }
  }
  github_role_assignments = local.github_enabled ? merge(local.github_deploy_roles, local.github_state_role) : {}
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

  name                = "github-${var.github_environment}"
  resource_group_name = azurerm_resource_group.this.name
  parent_id           = azurerm_user_assigned_identity.github[0].id
  issuer              = "https://token.actions.githubusercontent.com"
  subject             = "repo:${var.github_repository}:environment:${var.github_environment}"
  audience            = ["api://AzureADTokenExchange"]
}

resource "azurerm_role_assignment" "github" {
  for_each = local.github_role_assignments

  scope                            = each.value.scope
  role_definition_name             = each.value.role
  principal_id                     = azurerm_user_assigned_identity.github[0].principal_id
  principal_type                   = "ServicePrincipal"
  skip_service_principal_aad_check = true
}
