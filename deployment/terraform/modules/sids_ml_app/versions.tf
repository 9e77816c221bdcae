# The app's Kubernetes and KEDA objects, rendered from deployment/k8s/templates (the same files
# deployment/service_gen.py renders). The calling root (deployment/terraform/app) pins versions.
terraform {
  required_version = ">= 1.9.0"

  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 3.1.0, < 4.0.0"
    }
  }
}
