# The container registry of the one image (HTTP pods and workers). No admin user: the kubelet
# identity pulls with AcrPull (aks.tf), the GitHub deploy identity pushes with AcrPush.

resource "azurerm_container_registry" "this" {
  #checkov:skip=CKV_AZURE_139:Public endpoint needed: GitHub-hosted runners push and the cluster has no private network; disabling it needs Premium and private endpoints.
  #checkov:skip=CKV_AZURE_164:Content trust is deprecated by Azure (removed from azurerm 5); images are pinned by commit SHA tags instead.
  #checkov:skip=CKV_AZURE_165:Geo-replication is Premium-only; one region serves this service.
  #checkov:skip=CKV_AZURE_166:Quarantine is Premium-only; images come only from this repository's CI.
  #checkov:skip=CKV_AZURE_167:Untagged-manifest retention is Premium-only; every pushed image is tagged with its commit SHA.
  #checkov:skip=CKV_AZURE_233:Zone redundancy is Premium-only; a registry outage delays deployments, not traffic.
  #checkov:skip=CKV_AZURE_237:Dedicated data endpoints are Premium-only and matter only behind a firewall.
  name                   = "acr${local.compact}"
  location               = azurerm_resource_group.this.location
  resource_group_name    = azurerm_resource_group.this.name
  sku                    = var.acr_sku
  admin_enabled          = false
  anonymous_pull_enabled = false
  tags                   = local.tags
}
