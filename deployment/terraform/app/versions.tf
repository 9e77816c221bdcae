# Stage 2 of 2: the app's Kubernetes and KEDA objects (modules/sids_ml_app), from the same
# templates as deployment/service_gen.py.
#
# Why a second root instead of one apply: kubernetes_manifest reads the API server while
# planning (it needs the object kinds' OpenAPI schemas, and the KEDA, Gateway API and
# SecretProviderClass CRDs only exist once the AKS add-ons run), so the cluster must exist
# before this plan starts.
# A separate root with its own state is the honest version of that ordering; `-target` on a
# single root would work once but leaves every later plan depending on flags someone must
# remember. Stage 2 reads stage 1's outputs through terraform_remote_state (main.tf).
terraform {
  required_version = ">= 1.9.0"

  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 3.1"
    }
  }

  # Same backend as stage 1, another key (sids-ml/app.tfstate): see ../versions.tf.
  backend "azurerm" {}
}
