# Stage 1 of 2: the Azure resources (modules/sids_ml). Stage 2, ./app, applies the Kubernetes
# and KEDA manifests once this stage has created the cluster; see ./app/versions.tf for why.
terraform {
  required_version = ">= 1.9.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.81"
    }
  }

  # Remote state in an Azure Storage container, authenticated with Entra ID (no account key):
  #   terraform init -backend-config=backend.hcl
  # with resource_group_name, storage_account_name, container_name, key = "sids-ml/infra.tfstate"
  # and use_azuread_auth = true (README, "Deployment: Terraform").
  backend "azurerm" {}
}
