# One image per OpenECM app or vault simulator, from one multi-stage build; the APP build argument picks the
# entry: a folder of apps/ runs dist/apps/$APP/src/main.js, a name ending in -sim runs
# dist/tools/$APP/src/main.js.
#   docker build --build-arg APP=policy-approval -t openecm/policy-approval .
#   docker build --build-arg APP=password-safe-sim -t openecm/password-safe-sim .
# docker-compose.yml and deploy/k8s build one per service. Every layer before the last ARG is shared.
#
# Stages: `build` installs everything and compiles the TypeScript (`npm run build`, swc); `prod-deps`
# installs the production dependencies only; `runtime` holds those and the compiled JavaScript, nothing else
# (no TypeScript, no compiler, no sources, no dev dependencies).

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --include=dev --no-audit --no-fund
COPY .swcrc tsconfig.json tsconfig.base.json ./
COPY libs ./libs
COPY apps ./apps
COPY tools ./tools
RUN npm run build

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
# Owned by root and read-only to the app user: a compromised process cannot rewrite its own code.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /src/dist ./dist
# The `openecm` CLI (doctor, vault test, log-level ...) for `docker compose exec <service> openecm doctor`.
COPY --from=build /src/tools/cli/bin ./tools/cli/bin
RUN ln -s /app/tools/cli/bin/openecm.js /usr/local/bin/openecm

# Declared after the shared layers so every app reuses them.
ARG APP
RUN if [ -z "$APP" ]; then \
      echo "build with --build-arg APP=<a folder of apps/, or of tools/ ending in -sim>" >&2; exit 1; \
    fi; \
    case "$APP" in *-sim) entry="dist/tools/$APP/src/main.js" ;; *) entry="dist/apps/$APP/src/main.js" ;; esac; \
    if [ ! -f "$entry" ]; then echo "APP=$APP: there is no $entry" >&2; exit 1; fi
ENV APP=${APP}

# The node user (uid 1000) ships with the official image.
USER node
STOPSIGNAL SIGTERM
# `exec` makes node the direct child of the init process (compose `init: true`), so SIGTERM reaches it and the
# app drains (SHUTDOWN_TIMEOUT_MS). APP can be overridden at run time: the image holds every entry.
CMD ["/bin/sh", "-c", "case \"$APP\" in *-sim) entry=\"dist/tools/$APP/src/main.js\" ;; *) entry=\"dist/apps/$APP/src/main.js\" ;; esac; exec node --enable-source-maps \"$entry\""]
