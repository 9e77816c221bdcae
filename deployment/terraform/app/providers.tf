# The cluster has no local accounts: every call carries an Entra token that kubelogin gets from
# the Azure CLI session (`az login` locally, azure/login with OIDC in GitHub Actions). The
# server id is the AKS Entra application, the same for every cluster.
provider "kubernetes" {
  host                   = data.terraform_remote_state.infra.outputs.aks_host
  cluster_ca_certificate = base64decode(data.terraform_remote_state.infra.outputs.aks_cluster_ca_certificate)

  exec {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "kubelogin"
    args        = ["get-token", "--login", var.kubelogin_login_mode, "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"]
  }
}
