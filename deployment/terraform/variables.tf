# Inputs of stage 1. terraform.tfvars.example lists the ones an operator usually sets.

variable "subscription_id" {
  description = "Azure subscription to deploy into."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.subscription_id))
    error_message = "subscription_id must be a subscription GUID."
  }
}

variable "location" {
  description = "Azure region of every resource, as a programmatic name (westeurope, eastus2, ...)."
  type        = string
  default     = "westeurope"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]+$", var.location))
    error_message = "location: a region name in lowercase without spaces, such as westeurope."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name. Registry, storage and Function App names are global: pick one nobody else uses."
  type        = string
  default     = "sidsml"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,10}$", var.name_prefix))
    error_message = "name_prefix: 2 to 11 lowercase letters or digits, starting with a letter (storage account names allow nothing else)."
  }
}

variable "environment" {
  description = "Environment label in names and tags."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z0-9]{1,6}$", var.environment))
    error_message = "environment: 1 to 6 lowercase letters or digits."
  }
}

variable "tags" {
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}
}

variable "kubernetes_version" {
  # Pinned, not the region's default: the manifests are validated for this minor (tests), and the
  # deploy pipeline installs the cluster's own kubectl version. 1.36 is in AKS support until mid
  # 2027; the patch channel (aks_upgrade_channel) keeps its patches current. Move it one minor at
  # a time (`az aks get-versions --location <region>` lists what the region offers).
  description = "AKS Kubernetes minor version (alias: AKS runs its latest patch)."
  type        = string
  default     = "1.36"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version: a minor version such as 1.36 (AKS picks the latest patch)."
  }
}

variable "aks_sku_tier" {
  description = "AKS control plane tier. Standard carries the uptime SLA; Free suits a trial."
  type        = string
  default     = "Standard"

  validation {
    condition     = contains(["Free", "Standard", "Premium"], var.aks_sku_tier)
    error_message = "aks_sku_tier: Free, Standard or Premium."
  }
}

variable "aks_upgrade_channel" {
  description = "AKS automatic upgrade channel."
  type        = string
  default     = "patch"

  validation {
    condition     = contains(["patch", "rapid", "node-image", "stable"], var.aks_upgrade_channel)
    error_message = "aks_upgrade_channel: patch, rapid, node-image or stable."
  }
}

variable "node_vm_size" {
  description = "VM size of the node pool. It must have a temporary disk of at least node_os_disk_size_gb (the OS disk is ephemeral): the default D4ds_v5 has 150 GiB, 4 vCPUs, 16 GiB."
  type        = string
  default     = "Standard_D4ds_v5"

  validation {
    condition     = can(regex("^Standard_[A-Za-z0-9_]+$", var.node_vm_size))
    error_message = "node_vm_size: an Azure VM size such as Standard_D4ds_v5."
  }
}

variable "node_min_count" {
  description = "Fewest nodes the cluster autoscaler keeps, set at creation only: afterwards `az aks update --update-cluster-autoscaler --min-count N --max-count M` owns the bounds (Terraform ignores changes)."
  type        = number
  default     = 2

  validation {
    condition     = var.node_min_count >= 1 && var.node_min_count <= 100 && floor(var.node_min_count) == var.node_min_count
    error_message = "node_min_count: a whole number from 1 to 100."
  }
}

variable "node_max_count" {
  description = "Most nodes the cluster autoscaler may run, set at creation only (see node_min_count)."
  type        = number
  default     = 5

  validation {
    condition     = var.node_max_count >= var.node_min_count && var.node_max_count <= 100 && floor(var.node_max_count) == var.node_max_count
    error_message = "node_max_count: a whole number from node_min_count to 100."
  }
}

variable "node_max_pods" {
  description = "Pods per node (Azure CNI overlay allows up to 250)."
  type        = number
  default     = 110

  validation {
    condition     = var.node_max_pods >= 50 && var.node_max_pods <= 250
    error_message = "node_max_pods: from 50 to 250."
  }
}

variable "node_os_disk_size_gb" {
  description = "Ephemeral OS disk size in GB; at most the VM's temporary disk size."
  type        = number
  default     = 100

  validation {
    condition     = var.node_os_disk_size_gb >= 30 && var.node_os_disk_size_gb <= 2048
    error_message = "node_os_disk_size_gb: from 30 to 2048."
  }
}

variable "node_zones" {
  description = "Availability zones of the node pool, e.g. [\"1\", \"2\", \"3\"]; empty where the region has none."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for zone in var.node_zones : contains(["1", "2", "3"], zone)])
    error_message = "node_zones: a list of \"1\", \"2\" and \"3\"."
  }
}

variable "host_encryption_enabled" {
  description = "Encryption at host for node temp disks and caches; register Microsoft.Compute/EncryptionAtHost first."
  type        = bool
  default     = false
}

variable "api_server_authorized_ip_ranges" {
  description = "CIDRs allowed to reach the AKS API server; empty: any address (an Entra token is still required)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.api_server_authorized_ip_ranges : can(cidrhost(cidr, 0))])
    error_message = "api_server_authorized_ip_ranges: CIDRs such as 203.0.113.0/24."
  }
}

variable "operator_object_ids" {
  description = "Entra object ids of users or groups that operate the service: AKS RBAC cluster admin and dataset upload."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.operator_object_ids : can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", id))])
    error_message = "operator_object_ids: Entra object ids (GUIDs)."
  }
}

variable "grant_terraform_runner_access" {
  description = "Give the identity running this apply the operators' rights, so it can apply stage 2 and upload the first dataset."
  type        = bool
  default     = true
}

variable "acr_sku" {
  description = "Container registry SKU."
  type        = string
  default     = "Standard"

  validation {
    condition     = contains(["Basic", "Standard", "Premium"], var.acr_sku)
    error_message = "acr_sku: Basic, Standard or Premium."
  }
}

variable "log_retention_days" {
  description = "Days Log Analytics keeps logs."
  type        = number
  default     = 30

  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730
    error_message = "log_retention_days: from 30 to 730."
  }
}

variable "storage_replication_type" {
  description = "Replication of the storage accounts (ZRS needs a region with zones)."
  type        = string
  default     = "ZRS"

  validation {
    condition     = contains(["LRS", "ZRS", "GRS", "RAGRS", "GZRS", "RAGZRS"], var.storage_replication_type)
    error_message = "storage_replication_type: LRS, ZRS, GRS, RAGRS, GZRS or RAGZRS."
  }
}

variable "app_namespace" {
  description = "Kubernetes namespace of the app (stage 2 deploys there; the identity is federated with it)."
  type        = string
  default     = "sids-ml-backend"

  validation {
    condition     = length(var.app_namespace) <= 63 && can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.app_namespace))
    error_message = "app_namespace: a DNS label (lowercase letters, digits and '-', at most 63)."
  }
}

variable "app_service_account" {
  description = "Kubernetes service account of the app's pods (federated with the app identity)."
  type        = string
  default     = "sids-ml-backend"

  validation {
    condition     = length(var.app_service_account) <= 63 && can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.app_service_account))
    error_message = "app_service_account: a DNS label (lowercase letters, digits and '-', at most 63)."
  }
}

variable "dataset_share_name" {
  description = "Azure Files share of the dataset (DATASET_SHARE)."
  type        = string
  default     = "datasets"

  validation {
    condition     = length(var.dataset_share_name) >= 3 && length(var.dataset_share_name) <= 63 && can(regex("^[a-z0-9]+(-[a-z0-9]+)*$", var.dataset_share_name))
    error_message = "dataset_share_name: 3 to 63 lowercase letters, digits and single hyphens."
  }
}

variable "dataset_share_quota_gi" {
  description = "Quota of the dataset share in GiB."
  type        = number
  default     = 10

  validation {
    condition     = var.dataset_share_quota_gi >= 1 && var.dataset_share_quota_gi <= 5120 && floor(var.dataset_share_quota_gi) == var.dataset_share_quota_gi
    error_message = "dataset_share_quota_gi: a whole number from 1 to 5120."
  }
}

variable "jobs_queue_name" {
  description = "Storage queue of pending jobs (JOBS_QUEUE_NAME, which worker/function.json's trigger reads too)."
  type        = string
  default     = "jobs"

  validation {
    condition     = length(var.jobs_queue_name) >= 3 && length(var.jobs_queue_name) <= 63 && can(regex("^[a-z0-9]+(-[a-z0-9]+)*$", var.jobs_queue_name))
    error_message = "jobs_queue_name: 3 to 63 lowercase letters, digits and single hyphens."
  }
}

variable "results_container_name" {
  description = "Blob container of job records and results (RESULTS_CONTAINER)."
  type        = string
  default     = "results"

  validation {
    condition     = length(var.results_container_name) >= 3 && length(var.results_container_name) <= 63 && can(regex("^[a-z0-9]+(-[a-z0-9]+)*$", var.results_container_name))
    error_message = "results_container_name: 3 to 63 lowercase letters, digits and single hyphens."
  }
}

variable "batch_container_name" {
  description = "Blob container of batch output, the precomputed model files (BATCH_CONTAINER)."
  type        = string
  default     = "ml-models"

  validation {
    condition     = length(var.batch_container_name) >= 3 && length(var.batch_container_name) <= 63 && can(regex("^[a-z0-9]+(-[a-z0-9]+)*$", var.batch_container_name))
    error_message = "batch_container_name: 3 to 63 lowercase letters, digits and single hyphens."
  }
}

variable "function_python_version" {
  description = "Python of the Function App; the image (4-python3.12), CI and requirements use 3.12."
  type        = string
  default     = "3.12"

  validation {
    condition     = contains(["3.12", "3.13"], var.function_python_version)
    error_message = "function_python_version: 3.12 (what the requirements are pinned and tested for) or 3.13."
  }
}

variable "function_max_instances" {
  description = "Most instances the Flex Consumption plan may run (maximum_instance_count)."
  type        = number
  default     = 40

  validation {
    condition     = var.function_max_instances >= 1 && var.function_max_instances <= 1000 && floor(var.function_max_instances) == var.function_max_instances
    error_message = "function_max_instances: a whole number from 1 to 1000."
  }
}

variable "function_instance_memory_mb" {
  description = "Memory of each Flex Consumption instance in MB: 2048 (one training at a time fits) or 4096."
  type        = number
  default     = 2048

  validation {
    condition     = contains([2048, 4096], var.function_instance_memory_mb)
    error_message = "function_instance_memory_mb: 2048 or 4096."
  }
}

variable "function_dataset_mount" {
  description = "Mount the dataset share on the Function App at /mnt/datasets, as the AKS pods do (Flex Consumption mounts Azure Files with the account key, kept in the app's site configuration and Terraform's state); false: no key anywhere, the deploy syncs the share into each package."
  type        = bool
  default     = true
}

variable "api_host_name" {
  description = "Public host name of the AKS Gateway's HTTPS listener, e.g. api.sids.example.org (a DNS record to the Gateway's address is yours to create)."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.api_host_name))
    error_message = "api_host_name: a lowercase DNS host name such as api.sids.example.org."
  }
}

variable "tls_certificate_name" {
  description = "Key Vault certificate of api_host_name (import it, or let Key Vault issue it, before stage 2)."
  type        = string
  default     = "api-tls"

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,127}$", var.tls_certificate_name))
    error_message = "tls_certificate_name: letters, digits and '-'."
  }
}

variable "admin_keys_secret_name" {
  description = "Key Vault secret holding ADMIN_API_KEYS, comma-separated (set it with `az keyvault secret set`; never in a file here)."
  type        = string
  default     = "admin-api-keys"

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,127}$", var.admin_keys_secret_name))
    error_message = "admin_keys_secret_name: letters, digits and '-'."
  }
}

variable "application_insights_enabled" {
  description = "Create Application Insights for the Function App (Entra-authenticated ingestion)."
  type        = bool
  default     = true
}

variable "github_repository" {
  description = "GitHub owner/repo whose deploy workflow may act as the deploy identity (OIDC); empty: no deploy identity."
  type        = string
  default     = ""

  validation {
    condition     = var.github_repository == "" || can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository: empty, or owner/repo."
  }
}

variable "github_environment" {
  description = "GitHub environment the deploy jobs run in (the federated credential's subject)."
  type        = string
  default     = "production"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,255}$", var.github_environment))
    error_message = "github_environment: letters, digits, '_', '.' and '-'."
  }
}
