# Renders deployment/k8s/templates with templatefile() and applies every document with
# kubernetes_manifest (server-side apply). The templates are shared with the Python generator
# (deployment/service_gen.py, deployment/k8s/render.py), so both produce the same objects.

locals {
  templates = "${path.module}/../../../k8s/templates"

  # Object names derived from app_name, as deployment/service_gen.py derives them.
  config_map    = "${var.app_name}-settings"
  dataset_claim = "${var.app_name}-datasets"
  gateway       = var.app_name
  admin_secret  = "${var.app_name}-admin"

  shared_values = {
    namespace              = var.namespace
    app_name               = var.app_name
    service_account        = var.service_account
    identity_client_id     = var.identity_client_id
    storage_account        = var.dataset_storage_account
    storage_resource_group = var.storage_resource_group
    dataset_share          = var.dataset_share
    dataset_share_size_gi  = var.dataset_share_size_gi
    blob_url               = var.blob_url
    queue_url              = var.queue_url
    jobs_queue             = var.jobs_queue
    results_container      = var.results_container
    batch_container        = var.batch_container
    config_map             = local.config_map
    dataset_claim          = local.dataset_claim
    gateway                = local.gateway
    admin_secret           = local.admin_secret
    tenant_id              = var.tenant_id
    key_vault_name         = var.key_vault_name
    admin_keys_secret      = var.admin_keys_secret
    host_name              = var.host_name
    tls_certificate_uri    = var.tls_certificate_uri
  }
  shared_yaml = templatefile("${local.templates}/shared.yaml", local.shared_values)

  # A template renders a YAML stream of several documents separated by `---` lines. Terraform
  # has no stream decoder: split on those lines and decode each part. A part without a
  # top-level key (a comment block) is not an object and is dropped.
  shared_documents = [
    for part in split("\n---\n", "\n${replace(local.shared_yaml, "/(?m)^---[ \\t]*$/", "---")}\n") :
    yamldecode(part) if length(regexall("(?m)^[A-Za-z]", part)) > 0
  ]

  # The worker's ScaledObject authenticates with the TriggerAuthentication of shared.yaml;
  # take its name from the rendered document rather than repeating the template's convention.
  trigger_auth = one([for doc in local.shared_documents : doc.metadata.name if doc.kind == "TriggerAuthentication"])

  # The main API (all models, path /) and one service per model (path /<model>), keyed by
  # their object names.
  services = merge(
    {
      (var.app_name) = merge(var.api, { model_service = "", route_path = "/" })
    },
    {
      for model, service in var.model_services :
      "${var.app_name}-${lower(model)}" => merge(service, { model_service = model, route_path = "/${model}" })
    },
  )

  service_values = {
    for name, service in local.services : name => {
      namespace       = var.namespace
      name            = name
      image           = var.image
      model_service   = service.model_service
      min_replicas    = service.min_replicas
      max_replicas    = service.max_replicas
      cpu_request     = service.cpu_request
      cpu_limit       = service.cpu_limit
      memory_request  = service.memory_request
      memory_limit    = service.memory_limit
      max_surge       = service.max_surge
      max_unavailable = service.max_unavailable
      route_path      = service.route_path
      mount_datasets  = service.mount_datasets
      config_map      = local.config_map
      service_account = var.service_account
      dataset_claim   = local.dataset_claim
      gateway         = local.gateway
      admin_secret    = local.admin_secret
    }
  }

  worker_values = {
    namespace       = var.namespace
    name            = "${var.app_name}-worker"
    image           = var.image
    max_replicas    = var.worker.max_replicas
    cpu_request     = var.worker.cpu_request
    cpu_limit       = var.worker.cpu_limit
    memory_request  = var.worker.memory_request
    memory_limit    = var.worker.memory_limit
    config_map      = local.config_map
    service_account = var.service_account
    dataset_claim   = local.dataset_claim
    jobs_queue      = var.jobs_queue
    storage_account = var.jobs_storage_account
    trigger_auth    = local.trigger_auth
  }

  workload_yaml = concat(
    [for name, values in local.service_values : templatefile("${local.templates}/service.yaml", values)],
    [templatefile("${local.templates}/worker.yaml", local.worker_values)],
  )

  # Split as shared_documents above.
  workload_documents = flatten([
    for text in local.workload_yaml : [
      for part in split("\n---\n", "\n${replace(text, "/(?m)^---[ \\t]*$/", "---")}\n") :
      yamldecode(part) if length(regexall("(?m)^[A-Za-z]", part)) > 0
    ]
  ])

  # Keyed kind/namespace/name: stable across applies, and a duplicate object is an error.
  shared_manifests = {
    for doc in local.shared_documents :
    "${doc.kind}/${try(doc.metadata.namespace, "")}/${doc.metadata.name}" => doc
  }
  workload_manifests = var.manage_workloads ? {
    for doc in local.workload_documents :
    "${doc.kind}/${try(doc.metadata.namespace, "")}/${doc.metadata.name}" => doc
  } : {}
}

resource "kubernetes_namespace_v1" "this" {
  count = var.create_namespace ? 1 : 0

  metadata {
    name = var.namespace
    labels = {
      "app.kubernetes.io/part-of" = var.app_name
      # The pods meet the restricted Pod Security profile; enforce baseline and report any
      # drift from restricted without blocking a deployment on it.
      "pod-security.kubernetes.io/enforce" = "baseline"
      "pod-security.kubernetes.io/warn"    = "restricted"
      "pod-security.kubernetes.io/audit"   = "restricted"
    }
  }
}

# The step AKS's docs give for the KEDA add-on with workload identity: once the operator's
# federated credential exists (stage 1), restart the operator so that its pods start with the
# identity's token. A pod template annotation is what `kubectl rollout restart` sets; its value
# is the credential's id, so the operator restarts again only if the credential is replaced.
# The pipeline then checks that the operator has the token and the worker's scaler is ready
# (deployment/check_keda_identity.sh), and fails loudly otherwise.
resource "kubernetes_annotations" "keda_operator_restart" {
  count = var.restart_keda_operator ? 1 : 0

  api_version = "apps/v1"
  kind        = "Deployment"
  metadata {
    name      = "keda-operator"
    namespace = "kube-system"
  }
  template_annotations = {
    "sids-ml-backend/workload-identity-credential" = sha1(var.keda_operator_credential_id)
  }
  # The add-on manager owns the rest of the object.
  force = true
}

resource "kubernetes_manifest" "shared" {
  for_each = local.shared_manifests

  manifest = each.value

  field_manager {
    name = "terraform-sids-ml"
  }

  depends_on = [kubernetes_namespace_v1.this]
}

resource "kubernetes_manifest" "workloads" {
  for_each = local.workload_manifests

  manifest = each.value

  field_manager {
    name = "terraform-sids-ml"
  }

  dynamic "wait" {
    for_each = var.wait_for_rollout && each.value.kind == "Deployment" ? [1] : []
    content {
      rollout = true
    }
  }

  timeouts {
    create = "15m"
    update = "15m"
    delete = "5m"
  }

  depends_on = [kubernetes_manifest.shared]
}

# The pipeline's deploy identity writes this namespace only. Azure RBAC (stage 1: AKS RBAC Writer
# scoped to the namespace) covers the built-in kinds; the add-ons' custom kinds the pipeline
# applies, waits for or checks are granted here, in Kubernetes RBAC (which AKS evaluates too),
# with the verbs `kubectl apply`, `kubectl wait` and the checks use and nothing else.
resource "kubernetes_role_v1" "deployer" {
  count = var.deploy_principal_id == null ? 0 : 1

  metadata {
    name      = "${var.app_name}-deployer"
    namespace = var.namespace
  }

  rule {
    api_groups = ["keda.sh"]
    resources  = ["scaledobjects"]
    verbs      = ["get", "list", "watch", "create", "update", "patch"]
  }

  rule {
    api_groups = ["gateway.networking.k8s.io"]
    resources  = ["httproutes"]
    verbs      = ["get", "list", "watch", "create", "update", "patch"]
  }

  # The Gateway is stage 2's: the pipeline only waits for it and reads its address.
  rule {
    api_groups = ["gateway.networking.k8s.io"]
    resources  = ["gateways"]
    verbs      = ["get", "list", "watch"]
  }

  depends_on = [kubernetes_namespace_v1.this]
}

resource "kubernetes_role_binding_v1" "deployer" {
  count = var.deploy_principal_id == null ? 0 : 1

  metadata {
    name      = "${var.app_name}-deployer"
    namespace = var.namespace
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "Role"
    name      = kubernetes_role_v1.deployer[0].metadata[0].name
  }

  # An Entra identity appears to the API server as a user named by its object id.
  subject {
    kind      = "User"
    name      = var.deploy_principal_id
    api_group = "rbac.authorization.k8s.io"
  }
}
