# Inputs of the module. The root (deployment/terraform/variables.tf) documents and validates what
# an operator sets; the checks repeated here are the ones the module itself relies on.

variable "name_prefix" {
  description = "Short lowercase prefix of every resource name (letters and digits)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,10}$", var.name_prefix))
    error_message = "name_prefix: 2 to 11 lowercase letters or digits, starting with a letter."
  }
}

variable "environment" {
  description = "Environment label in names and tags, e.g. prod or dev."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]{1,6}$", var.environment))
    error_message = "environment: 1 to 6 lowercase letters or digits."
  }
}

variable "location" {
  description = "Azure region of every resource."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource, on top of application/environment/managed_by."
  type        = map(string)
  default     = {}
}

variable "kubernetes_version" {
  description = "AKS Kubernetes minor version (such as 1.36); the root pins it."
  type        = string
}

variable "aks_sku_tier" {
  description = "AKS control plane tier: Free (no SLA), Standard or Premium."
  type        = string
  default     = "Standard"
}

variable "aks_upgrade_channel" {
  description = "AKS automatic upgrade channel: patch, rapid, node-image or stable."
  type        = string
  default     = "patch"
}

variable "node_vm_size" {
  description = "VM size of the default node pool; must support an ephemeral OS disk of node_os_disk_size_gb."
  type        = string
}

variable "node_min_count" {
  description = "Fewest nodes the cluster autoscaler keeps in the default pool."
  type        = number

  validation {
    condition     = var.node_min_count >= 1 && floor(var.node_min_count) == var.node_min_count
    error_message = "node_min_count: a whole number of at least 1."
  }
}

variable "node_max_count" {
  description = "Most nodes the cluster autoscaler may add to the default pool."
  type        = number

  validation {
    condition     = var.node_max_count >= var.node_min_count && var.node_max_count <= 1000
    error_message = "node_max_count: between node_min_count and 1000."
  }
}

variable "node_max_pods" {
  description = "Pods per node in the default pool."
  type        = number
}

variable "node_os_disk_size_gb" {
  description = "Size of each node's ephemeral OS disk in GB (placed on the VM's temporary disk)."
  type        = number
}

variable "node_zones" {
  description = "Availability zones of the default pool; empty in regions without zones."
  type        = list(string)
  default     = []
}

variable "host_encryption_enabled" {
  description = "Encrypt node temp disks and caches at host (needs the EncryptionAtHost feature registered)."
  type        = bool
  default     = false
}

variable "api_server_authorized_ip_ranges" {
  description = "CIDRs allowed to reach the AKS API server; empty: any (Entra ID auth still applies)."
  type        = list(string)
  default     = []
}

variable "operator_object_ids" {
  description = "Entra object ids (users or groups) given cluster admin and dataset upload rights."
  type        = list(string)
  default     = []
}

variable "grant_terraform_runner_access" {
  description = "Give the identity running Terraform the same rights as operator_object_ids (stage 2 needs them)."
  type        = bool
  default     = true
}

variable "acr_sku" {
  description = "Container registry SKU: Basic, Standard or Premium."
  type        = string
  default     = "Standard"
}

variable "log_retention_days" {
  description = "Days Log Analytics keeps the cluster's and the Function App's logs."
  type        = number
  default     = 30
}

variable "storage_replication_type" {
  description = "Replication of the storage accounts: LRS, ZRS, GRS, RAGRS, GZRS or RAGZRS."
  type        = string
  default     = "ZRS"
}

variable "app_namespace" {
  description = "Kubernetes namespace of the app; part of the workload identity's federated subject."
  type        = string
}

variable "app_service_account" {
  description = "Kubernetes service account of the app's pods; part of the federated subject."
  type        = string
}

variable "dataset_share_name" {
  description = "Azure Files share holding the dataset CSV files."
  type        = string
}

variable "dataset_share_quota_gi" {
  description = "Quota of the dataset share in GiB (also the size of its PersistentVolume)."
  type        = number
}

variable "jobs_queue_name" {
  description = "Storage queue of pending jobs (JOBS_QUEUE_NAME)."
  type        = string
}

variable "results_container_name" {
  description = "Blob container of job records and results (RESULTS_CONTAINER)."
  type        = string
}

variable "batch_container_name" {
  description = "Blob container of batch output, the precomputed model files (BATCH_CONTAINER)."
  type        = string
}

variable "function_python_version" {
  description = "Python version of the Flex Consumption Function App (the image and CI use the same)."
  type        = string
}

variable "function_max_instances" {
  description = "Most instances the Flex Consumption plan scales the Function App out to."
  type        = number
}

variable "function_instance_memory_mb" {
  description = "Memory of each Flex Consumption instance in MB (2048 or 4096)."
  type        = number
  default     = 2048
}

variable "function_dataset_mount" {
  description = "Mount the dataset share on the Function App at /mnt/datasets (Flex Consumption mounts Azure Files with the account key); false: the deploy syncs it into the package."
  type        = bool
  default     = true
}

variable "api_host_name" {
  description = "Public host name of the AKS Gateway's TLS listener (its certificate is tls_certificate_name in the Key Vault)."
  type        = string
}

variable "tls_certificate_name" {
  description = "Key Vault certificate of api_host_name, imported or issued by an operator."
  type        = string
  default     = "api-tls"
}

variable "admin_keys_secret_name" {
  description = "Key Vault secret holding ADMIN_API_KEYS (comma-separated), set by an operator."
  type        = string
  default     = "admin-api-keys"
}

variable "application_insights_enabled" {
  description = "Create Application Insights (Entra-only ingestion) for the Function App."
  type        = bool
  default     = true
}

variable "github_repository" {
  description = "owner/repo allowed to deploy through GitHub OIDC; empty: no deploy identity."
  type        = string
  default     = ""
}

variable "github_environment" {
  description = "GitHub environment whose workflow runs may use the deploy identity."
  type        = string
  default     = "production"
}
