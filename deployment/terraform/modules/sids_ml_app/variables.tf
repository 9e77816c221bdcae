# Names and defaults match deployment/service_gen.py, so the objects Terraform manages are the
# ones the generator would write for the same values.

variable "app_name" {
  description = "Prefix of the object names; the main API's Deployment and the TriggerAuthentication take it as is."
  type        = string
  default     = "sids-ml-backend"

  validation {
    condition     = length(var.app_name) <= 40 && can(regex("^[a-z]([-a-z0-9]*[a-z0-9])?$", var.app_name))
    error_message = "app_name: a DNS label of at most 40 characters (names get suffixes)."
  }
}

variable "namespace" {
  description = "Namespace of every namespaced object."
  type        = string
}

variable "create_namespace" {
  description = "Create the namespace (the templates do not contain it)."
  type        = bool
  default     = true
}

variable "service_account" {
  description = "Service account of the pods, federated with the app identity in stage 1."
  type        = string
}

variable "identity_client_id" {
  description = "Client id of the app's managed identity."
  type        = string
}

variable "dataset_storage_account" {
  description = "Storage account of the dataset share (shared.yaml's storage_account)."
  type        = string
}

variable "storage_resource_group" {
  description = "Resource group of the dataset storage account."
  type        = string
}

variable "dataset_share" {
  description = "Azure Files share of the dataset."
  type        = string
}

variable "dataset_share_size_gi" {
  description = "Size of the dataset PersistentVolume in GiB (the share's quota)."
  type        = number
}

variable "jobs_storage_account" {
  description = "Storage account of the jobs queue (worker.yaml's storage_account, read by KEDA)."
  type        = string
}

variable "blob_url" {
  description = "Blob endpoint of the jobs storage account."
  type        = string
}

variable "queue_url" {
  description = "Queue endpoint of the jobs storage account."
  type        = string
}

variable "jobs_queue" {
  description = "Name of the jobs queue."
  type        = string
}

variable "results_container" {
  description = "Name of the results container."
  type        = string
}

variable "batch_container" {
  description = "Name of the batch output container (BATCH_CONTAINER)."
  type        = string
}

variable "image" {
  description = "Image of the HTTP pods and workers, tagged with the commit SHA."
  type        = string

  validation {
    condition     = can(regex(":[A-Za-z0-9_][A-Za-z0-9_.-]*$", var.image)) && !endswith(var.image, ":latest")
    error_message = "image: a reference with a tag (the commit SHA), not latest."
  }
}

variable "api" {
  description = "The main API service (every model, route path /)."
  type = object({
    min_replicas    = number
    max_replicas    = number
    cpu_request     = string
    cpu_limit       = string
    memory_request  = string
    memory_limit    = string
    max_surge       = string
    max_unavailable = string
    mount_datasets  = bool
  })
}

variable "model_services" {
  description = "Per-model services, keyed by the model's folder under models/ (route path /<model>)."
  type = map(object({
    min_replicas    = number
    max_replicas    = number
    cpu_request     = string
    cpu_limit       = string
    memory_request  = string
    memory_limit    = string
    max_surge       = string
    max_unavailable = string
    mount_datasets  = bool
  }))
  default = {}
}

variable "worker" {
  description = "The queue worker (scaled from zero by KEDA on the jobs queue)."
  type = object({
    max_replicas   = number
    cpu_request    = string
    cpu_limit      = string
    memory_request = string
    memory_limit   = string
  })
}

variable "manage_workloads" {
  description = "Manage the Deployments, Services, ScaledObjects and HTTPRoutes too; false: only the shared objects."
  type        = bool
  default     = true
}

variable "restart_keda_operator" {
  description = "Restart the KEDA add-on's operator when its federated credential changes (AKS's KEDA workload identity step)."
  type        = bool
  default     = true
}

variable "keda_operator_credential_id" {
  description = "Id of the KEDA operator's federated credential on the app identity (stage 1)."
  type        = string
}

variable "deploy_principal_id" {
  description = "Entra object id of the pipeline's deploy identity; null: no pipeline, no Role binding."
  type        = string
  default     = null
}

variable "tenant_id" {
  description = "Entra tenant of the app identity and the Key Vault."
  type        = string
}

variable "key_vault_name" {
  description = "Key Vault of the admin keys and the Gateway's certificate."
  type        = string
}

variable "admin_keys_secret" {
  description = "Key Vault secret holding ADMIN_API_KEYS."
  type        = string
}

variable "host_name" {
  description = "Public host name of the Gateway's HTTPS listener."
  type        = string
}

variable "tls_certificate_uri" {
  description = "Unversioned Key Vault URI of the listener's certificate."
  type        = string
}

variable "wait_for_rollout" {
  description = "Make apply wait until each Deployment has rolled out (fails the deploy on a bad image or an unready app)."
  type        = bool
  default     = true
}
