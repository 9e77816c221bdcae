# The SIDS ML Backend image: the Azure Functions host (v4, Python 3.12) with the app at
# /home/site/wwwroot. One image runs every Kubernetes deployment and the local compose services:
#   HTTP pods   the default command (the Functions host on port 80 serving `main`), with
#               AzureWebJobs.worker.Disabled=true so they leave the queue to the workers;
#   workers     command `python -m worker`: the same job runner as a plain process.
#
# Build: docker build -t sids-ml-backend .   Run locally: docker compose up (docker-compose.yml).
#
# The base is pinned to the Functions v4 / Python 3.12 tag (Debian 12), not to a digest: Microsoft
# republishes that tag with security patches, and the pipeline (.github/workflows/deploy.yml)
# rebuilds on every push to main and deploys the image it pushed under the commit SHA.
# checkov:skip=CKV_DOCKER_2: no HEALTHCHECK in the image: the same image runs the worker, which serves no HTTP; Kubernetes probes /healthz and /readyz, and compose sets a healthcheck on the api service only
FROM mcr.microsoft.com/azure-functions/python:4-python3.12

ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true \
    DATASET_PATH=/mnt/datasets \
    DEMO_DATA_FALLBACK=false

WORKDIR /home/site/wwwroot

# Dependencies first, in their own layer: it is rebuilt only when requirements.txt changes.
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt && rm /tmp/requirements.txt

# The app, file by file and package by package (nothing else from the build context), owned by
# root so the runtime user cannot change it. Compiled here so that a read-only root filesystem
# costs nothing at import.
COPY host.json ./
COPY main/ main/
COPY worker/ worker/
COPY api_app/ api_app/
COPY common/ common/
COPY models/ models/
RUN python -m compileall -q main worker api_app common models

# An unprivileged runtime user with a fixed uid (Kubernetes' runAsNonRoot checks the numeric
# USER; the manifests run as 10001 too). The only place the Functions host writes besides /tmp
# is its secrets sentinel folder (Azure/azure-functions-docker#1210): that one is the user's.
# Port 80 stays: the Functions host listens there (ASPNETCORE_URLS in the base image) and the
# Kubernetes manifests expect it. A non-root process may bind it where the container's
# net.ipv4.ip_unprivileged_port_start is 0: Docker's default since 20.10 (compose sets it too)
# and a pod-level sysctl in the manifests (a "safe" sysctl since Kubernetes 1.22).
RUN groupadd --system --gid 10001 sids \
    && useradd --system --uid 10001 --gid sids --home-dir /home --no-create-home \
        --shell /usr/sbin/nologin sids \
    && mkdir -p /azure-functions-host/Secrets /mnt/datasets \
    && chown sids:sids /azure-functions-host/Secrets
USER 10001:10001

EXPOSE 80
