# The Azure resources of the SIDS ML Backend. The calling root (deployment/terraform) pins the
# exact provider versions; a module only states the range it was written against.
terraform {
  required_version = ">= 1.9.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.81.0, < 5.0.0"
    }
  }
}
