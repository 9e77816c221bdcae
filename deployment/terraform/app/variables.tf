# Inputs of stage 2. Defaults match deployment/service_gen.py: the same values give the same
# objects whichever renders them.

variable "infra_state_backend" {
  description = "Backend type of stage 1's state: azurerm (remote, the normal case) or local."
  type        = string
  default     = "azurerm"

  validation {
    condition     = contains(["azurerm", "local"], var.infra_state_backend)
    error_message = "infra_state_backend: azurerm or local."
  }
}

variable "infra_state_config" {
  description = "Backend settings of stage 1's state, e.g. the same resource_group_name, storage_account_name and container_name as its backend.hcl, key = \"sids-ml/infra.tfstate\", use_azuread_auth = \"true\"."
  type        = map(string)

  validation {
    condition     = contains(keys(var.infra_state_config), "key") || contains(keys(var.infra_state_config), "path")
    error_message = "infra_state_config: needs `key` (azurerm) or `path` (local)."
  }
}

variable "kubelogin_login_mode" {
  description = "How kubelogin gets the Entra token: azurecli (az login, or azure/login in GitHub Actions), workloadidentity or msi."
  type        = string
  default     = "azurecli"

  validation {
    condition     = contains(["azurecli", "workloadidentity", "msi"], var.kubelogin_login_mode)
    error_message = "kubelogin_login_mode: azurecli, workloadidentity or msi."
  }
}

variable "app_name" {
  description = "Prefix of the object names (deployment/service_gen.py's --app-name)."
  type        = string
  default     = "sids-ml-backend"

  validation {
    condition     = length(var.app_name) <= 40 && can(regex("^[a-z]([-a-z0-9]*[a-z0-9])?$", var.app_name))
    error_message = "app_name: a DNS label of at most 40 characters."
  }
}

variable "image_repository" {
  description = "Repository of the image in the stage 1 registry."
  type        = string
  default     = "sids-ml-backend"

  validation {
    condition     = can(regex("^[a-z0-9]+([._/-][a-z0-9]+)*$", var.image_repository))
    error_message = "image_repository: lowercase letters, digits and . _ / - separators."
  }
}

variable "image_tag" {
  description = "Tag of the image the workloads run (a commit SHA, never latest); needed only with manage_workloads."
  type        = string
  default     = ""

  validation {
    condition = (
      var.image_tag == "" ? !var.manage_workloads :
      can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    )
    error_message = "image_tag: a Docker tag (the commit SHA), not latest; required when manage_workloads is true."
  }
}

variable "api" {
  description = "Sizing of the main API service (every model, route path /)."
  type = object({
    min_replicas    = optional(number, 2)
    max_replicas    = optional(number, 4)
    cpu_request     = optional(string, "500m")
    cpu_limit       = optional(string, "2")
    memory_request  = optional(string, "1Gi")
    memory_limit    = optional(string, "2Gi")
    max_surge       = optional(string, "1")
    max_unavailable = optional(string, "0")
    mount_datasets  = optional(bool, true)
  })
  default = {}

  validation {
    condition     = var.api.min_replicas >= 1 && var.api.max_replicas >= var.api.min_replicas
    error_message = "api: min_replicas at least 1 (the CPU scaler cannot scale to zero), max_replicas at least min_replicas."
  }

  validation {
    condition = alltrue([
      can(regex("^[0-9]+(\\.[0-9]+)?m?$", var.api.cpu_request)),
      can(regex("^[0-9]+(\\.[0-9]+)?m?$", var.api.cpu_limit)),
      can(regex("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$", var.api.memory_request)),
      can(regex("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$", var.api.memory_limit)),
      can(regex("^[0-9]+%?$", var.api.max_surge)),
      can(regex("^[0-9]+%?$", var.api.max_unavailable)),
      !(trimsuffix(var.api.max_surge, "%") == "0" && trimsuffix(var.api.max_unavailable, "%") == "0"),
    ])
    error_message = "api: CPU like 500m or 2, memory like 1Gi, max_surge/max_unavailable a count or percentage and not both 0."
  }
}

variable "model_services" {
  description = "Per-model services, keyed by the model's folder under models/ (e.g. twolvlImp = {}): MODEL_SERVICE=<model>, route path /<model>."
  type = map(object({
    min_replicas    = optional(number, 1)
    max_replicas    = optional(number, 4)
    cpu_request     = optional(string, "500m")
    cpu_limit       = optional(string, "2")
    memory_request  = optional(string, "1Gi")
    memory_limit    = optional(string, "2Gi")
    max_surge       = optional(string, "1")
    max_unavailable = optional(string, "0")
    mount_datasets  = optional(bool, true)
  }))
  default = {}

  validation {
    condition     = alltrue([for model in keys(var.model_services) : can(regex("^[A-Za-z][A-Za-z0-9]{0,21}$", model))])
    error_message = "model_services: keys are model folder names (letters and digits, at most 22, so the object names stay DNS labels)."
  }

  validation {
    condition = alltrue([
      for service in values(var.model_services) :
      service.min_replicas >= 1 && service.max_replicas >= service.min_replicas &&
      !(trimsuffix(service.max_surge, "%") == "0" && trimsuffix(service.max_unavailable, "%") == "0")
    ])
    error_message = "model_services: min_replicas at least 1, max_replicas at least min_replicas, max_surge and max_unavailable not both 0."
  }
}

variable "worker" {
  description = "Sizing of the queue worker (KEDA scales it from zero on the jobs queue)."
  type = object({
    max_replicas   = optional(number, 4)
    cpu_request    = optional(string, "1")
    cpu_limit      = optional(string, "2")
    memory_request = optional(string, "512Mi")
    memory_limit   = optional(string, "1Gi")
  })
  default = {}

  validation {
    condition     = var.worker.max_replicas >= 1
    error_message = "worker: max_replicas at least 1."
  }
}

variable "manage_workloads" {
  # One owner per object: by default the pipeline (deploy.yml) rolls out the API and
  # worker with each commit's image, rendered from the same templates by deployment/service_gen.py.
  description = "Apply the Deployments, Services, ScaledObjects and HTTPRoutes too (for a cluster without the deploy pipeline); false: only the shared objects (settings, dataset volume, KEDA authentication, Gateway, admin keys)."
  type        = bool
  default     = false
}

variable "restart_keda_operator" {
  description = "Restart the KEDA add-on's operator once its federated credential exists (the step AKS's KEDA workload identity docs require); the pipeline checks the result either way."
  type        = bool
  default     = true
}

variable "wait_for_rollout" {
  description = "Wait for each Deployment's rollout, so a bad image or an app that never gets ready fails the apply."
  type        = bool
  default     = true
}
