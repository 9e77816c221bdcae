# The AKS cluster on a pinned Kubernetes minor: one autoscaled node pool, KEDA, workload
# identity, Azure Files CSI, the Key Vault secrets provider (Secrets Store CSI driver),
# Container Insights, and the application routing add-on whose Gateway API implementation
# (GatewayClass approuting-istio) serves the public HTTPS listener. The managed NGINX ingress
# is not used: it left maintenance, and the Gateway API is AKS's path forward.

resource "azurerm_kubernetes_cluster" "this" {
  #checkov:skip=CKV_AZURE_115:Public API endpoint: GitHub-hosted runners deploy and have no VNet; every call needs an Entra token (local accounts off), and api_server_authorized_ip_ranges can restrict the sources.
  #checkov:skip=CKV_AZURE_117:Node disks use platform-managed keys; a disk encryption set means running a Key Vault with customer keys.
  #checkov:skip=CKV_AZURE_232:One autoscaled pool by design (the brief's default node pool); a dedicated system pool would double the minimum node count.
  #checkov:skip=CKV_AZURE_227:Encryption at host needs the Microsoft.Compute/EncryptionAtHost feature registered on the subscription; set host_encryption_enabled once it is.
  name                = "aks-${local.base}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  dns_prefix          = local.base
  kubernetes_version  = var.kubernetes_version # pinned by the root; the manifests are validated for it
  sku_tier            = var.aks_sku_tier

  automatic_upgrade_channel = var.aks_upgrade_channel
  node_os_upgrade_channel   = "NodeImage"

  # Workload identity: pods exchange their service account token (issued by this OIDC issuer)
  # for the app's managed identity, so no Azure credential lives in the cluster.
  oidc_issuer_enabled       = true
  workload_identity_enabled = true

  # Kubernetes RBAC backed by Entra ID and Azure RBAC; no static admin kubeconfig exists.
  role_based_access_control_enabled = true
  local_account_disabled            = true
  azure_active_directory_role_based_access_control {
    azure_rbac_enabled = true
    tenant_id          = data.azurerm_client_config.current.tenant_id
  }

  azure_policy_enabled         = true
  image_cleaner_enabled        = true
  image_cleaner_interval_hours = 48

  default_node_pool {
    name                        = "default"
    temporary_name_for_rotation = "defaulttmp"
    vm_size                     = var.node_vm_size
    zones                       = var.node_zones
    max_pods                    = var.node_max_pods
    os_disk_type                = "Ephemeral"
    os_disk_size_gb             = var.node_os_disk_size_gb
    host_encryption_enabled     = var.host_encryption_enabled

    # The cluster autoscaler adds nodes when pods (KEDA-scaled workers, HTTP replicas) do not
    # fit, and removes idle ones. These are the bounds at creation; see the lifecycle block.
    auto_scaling_enabled = true
    min_count            = var.node_min_count
    max_count            = var.node_max_count
    node_count           = var.node_min_count

    upgrade_settings {
      max_surge                = "33%"
      drain_timeout_in_minutes = 30
    }
  }

  # System-assigned control plane identity; AKS also creates the kubelet identity (used below
  # for AcrPull) in the node resource group.
  identity {
    type = "SystemAssigned"
  }

  network_profile {
    network_plugin      = "azure"
    network_plugin_mode = "overlay"
    network_data_plane  = "cilium"
    # Enforces the NetworkPolicy objects of the manifests (deployment/k8s/templates).
    network_policy    = "cilium"
    load_balancer_sku = "standard"
  }

  # Empty by default: GitHub-hosted runners have no fixed addresses. Access still needs an
  # Entra token with an Azure RBAC role on the cluster.
  dynamic "api_server_access_profile" {
    for_each = length(var.api_server_authorized_ip_ranges) > 0 ? [1] : []
    content {
      authorized_ip_ranges = var.api_server_authorized_ip_ranges
    }
  }

  # Container Insights into Log Analytics, authenticated with a managed identity.
  oms_agent {
    log_analytics_workspace_id      = azurerm_log_analytics_workspace.this.id
    msi_auth_for_monitoring_enabled = true
  }

  # The Azure Files CSI driver mounts the dataset share (deployment/k8s/templates/shared.yaml).
  storage_profile {
    file_driver_enabled         = true
    disk_driver_enabled         = true
    blob_driver_enabled         = false
    snapshot_controller_enabled = true
  }

  # The KEDA add-on: ScaledObjects scale the HTTP services on CPU and the worker on the queue.
  # Its operator reads the queue as the app identity (federated in identities.tf); AKS's docs
  # require restarting the operator once that credential exists, which stage 2 does
  # (modules/sids_ml_app, keda_operator_restart), and the pipeline checks afterwards that the
  # operator has a token and the worker's scaler is ready (deployment/check_keda_identity.sh).
  workload_autoscaler_profile {
    keda_enabled = true
  }

  # The Secrets Store CSI driver with the Azure Key Vault provider: the admin keys reach the
  # pods from Key Vault (shared.yaml's SecretProviderClass), rotated within two minutes.
  key_vault_secrets_provider {
    secret_rotation_enabled  = true
    secret_rotation_interval = "2m"
  }

  # Application routing add-on, without its NGINX controller. Its Gateway API implementation
  # (approuting-istio) is switched on after creation with
  # `az aks approuting gateway istio enable` (README, "Deployment"): azurerm has no argument for
  # it yet.
  web_app_routing {
    dns_zone_ids             = []
    default_nginx_controller = "None"
  }

  tags = local.tags

  lifecycle {
    # The cluster autoscaler owns the node count between min_count and max_count, and the
    # operators own the bounds after creation: they retune them with
    # `az aks update ... --update-cluster-autoscaler --min-count N --max-count M` (the runbook's
    # command, `terraform output autoscaler_update_command`), and the next apply must not put
    # node_min_count/node_max_count back. One node pool; a second would be tuned with
    # `az aks nodepool update --update-cluster-autoscaler` and need the same treatment.
    ignore_changes = [
      default_node_pool[0].node_count,
      default_node_pool[0].min_count,
      default_node_pool[0].max_count,
    ]
  }
}

resource "azurerm_role_assignment" "aks_acr_pull" {
  scope                            = azurerm_container_registry.this.id
  role_definition_name             = "AcrPull"
  principal_id                     = azurerm_kubernetes_cluster.this.kubelet_identity[0].object_id
  principal_type                   = "ServicePrincipal"
  skip_service_principal_aad_check = true
}

# Operators (and the Terraform runner) administer the cluster through Azure RBAC; stage 2
# creates cluster-scoped objects (the PersistentVolume) and restarts the KEDA operator in
# kube-system, hence admin. The deploy pipeline gets far less (github.tf).
resource "azurerm_role_assignment" "aks_operators" {
  for_each = local.operators

  scope                = azurerm_kubernetes_cluster.this.id
  role_definition_name = "Azure Kubernetes Service RBAC Cluster Admin"
  principal_id         = each.value
}
