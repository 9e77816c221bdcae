provider "azurerm" {
  subscription_id = var.subscription_id

  # Storage data-plane calls (if any) use Entra ID, never an account key.
  storage_use_azuread = true

  features {
    storage {
      # Containers, shares and queues go through Azure Resource Manager (storage_account_id),
      # so Terraform needs no data-plane access to the keyless accounts.
      data_plane_available = false
    }
    resource_group {
      # Never delete a resource group that holds something Terraform does not know about.
      prevent_deletion_if_contains_resources = true
    }
  }
}
