# fleetops worker and router image (docker-compose.yml runs both from it, with different commands).
#   docker build -t fleetops .
#   docker run fleetops                          -> worker (node dist/workers/main.js)
#   docker run fleetops node dist/router/main.js -> router
# Config is mounted at FLEETOPS_CONFIG; AWS credentials come from the SDK's default chain (task or
# instance role in production; env vars in compose).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# `npm install` (not `npm ci`) installs exactly the locked versions and also accepts a lockfile made
# on another platform (see scripts/install-tools.sh).
RUN npm install --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY activities ./activities
COPY cli ./cli
COPY common ./common
COPY config ./config
COPY router ./router
COPY simulator ./simulator
COPY stack ./stack
COPY workers ./workers
COPY workflows ./workflows
RUN npm run build && npm prune --omit=dev --no-audit --no-fund
# The workflow bundle is made once here, not by webpack at every worker start (FLEETOPS_WORKFLOW_BUNDLE).
RUN node -e "require('@temporalio/worker').bundleWorkflowCode({ workflowsPath: require.resolve('./dist/workflows') }).then((b) => require('node:fs').writeFileSync('dist/workflow-bundle.js', b.code))"

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    FLEETOPS_CONFIG=/etc/fleetops/fleetops.yaml \
    FLEETOPS_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config/demo.fleetops.yaml ./config/demo.fleetops.yaml
USER node
# Router HTTP API; the worker's Prometheus endpoint listens inside the container only.
EXPOSE 8787
CMD ["node", "dist/workers/main.js"]
