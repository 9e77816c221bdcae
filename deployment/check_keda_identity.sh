#!/usr/bin/env bash
# After provisioning and after each rollout: does KEDA's operator read the jobs queue as the app
# identity? AKS's KEDA add-on only gets a workload identity token into its operator pods once
# the operator's federated credential exists and the operator has been restarted (Terraform
# stage 2 restarts it); without one, the worker's queue scaler fails and the worker never
# scales up from zero while jobs pile up. This check fails loudly instead.
#
#   deployment/check_keda_identity.sh NAMESPACE SCALED_OBJECT [TIMEOUT_SECONDS]
#
# Fails (exit 1) with the fix when no operator pod runs, when one has no federated token, or when
# the ScaledObject is not Ready within the timeout (default 300 s). Needs read access to pods in
# kube-system and to ScaledObjects in NAMESPACE, nothing more.
set -euo pipefail

namespace=${1:?usage: check_keda_identity.sh NAMESPACE SCALED_OBJECT [TIMEOUT_SECONDS]}
scaled_object=${2:?usage: check_keda_identity.sh NAMESPACE SCALED_OBJECT [TIMEOUT_SECONDS]}
timeout=${3:-300}
interval=${KEDA_CHECK_INTERVAL:-10}
restart_hint="restart it: kubectl rollout restart deployment/keda-operator -n kube-system (or re-apply Terraform stage 2)"

fail() {
  echo "::error::$*" >&2
  exit 1
}

# One line per operator pod: "<pod>=<env name>,<env name>,...". The workload identity webhook
# injects AZURE_FEDERATED_TOKEN_FILE into pods started after the credential was federated.
pods=$(kubectl get pods --namespace kube-system --selector app=keda-operator --output \
  'jsonpath={range .items[*]}{.metadata.name}={range .spec.containers[*].env[*]}{.name},{end}{"\n"}{end}')
[ -n "$pods" ] || fail "no KEDA operator pod in kube-system: is the KEDA add-on on (workload_autoscaler_profile.keda_enabled)?"
while IFS= read -r line; do
  [ -n "$line" ] || continue
  pod=${line%%=*}
  case ",${line#*=}" in
    *,AZURE_FEDERATED_TOKEN_FILE,*) echo "KEDA operator pod $pod has a workload identity token" ;;
    *) fail "KEDA operator pod $pod has no workload identity token (no AZURE_FEDERATED_TOKEN_FILE): $restart_hint" ;;
  esac
done <<<"$pods"

# The scaler authenticates (TriggerAuthentication, azure-workload) and reads the queue length.
deadline=$((SECONDS + timeout))
while :; do
  ready=$(kubectl get scaledobject "$scaled_object" --namespace "$namespace" --output \
    'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)
  if [ "$ready" = "True" ]; then
    echo "ScaledObject $namespace/$scaled_object is Ready: KEDA reads the queue as the app identity"
    exit 0
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    reason=$(kubectl get scaledobject "$scaled_object" --namespace "$namespace" --output \
      'jsonpath={.status.conditions[?(@.type=="Ready")].message}' 2>/dev/null || true)
    fail "ScaledObject $namespace/$scaled_object is not Ready after ${timeout}s (${reason:-no status}): check the KEDA operator's federated credential and the app identity's queue role, then $restart_hint"
  fi
  sleep "$interval"
done
