# One image for every OpenECM app and vault simulator; the APP build argument picks the entry: a folder of
# apps/ runs apps/$APP/src/main.ts, a name ending in -sim runs tools/$APP/src/main.ts.
#   docker build --build-arg APP=policy-approval -t openecm/policy-approval .
#   docker build --build-arg APP=password-safe-sim -t openecm/password-safe-sim .
#   docker build --build-arg APP=secret-server-sim -t openecm/secret-server-sim .
# docker-compose.yml builds one per service. All layers except the last ENV are shared between them.
#
# The TypeScript is compiled on load by @swc-node/register (with the tsconfig.json paths), exactly as
# `node -r @swc-node/register apps/<app>/src/main.ts` runs it from a checkout. No build step yet, so the
# runtime keeps the dev dependencies: the loader (@swc-node/register, @swc/core) is one of them.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# NODE_ENV is not production in this stage, and --include=dev says it anyway: without the dev dependencies
# the loader is missing and every app dies on its first line.
RUN npm ci --include=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
# Owned by root and read-only to the app user: a compromised process cannot rewrite its own code. The
# loader's transform cache goes to the OS temp directory (/tmp), which the app user can write.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY libs ./libs
COPY apps ./apps
COPY tools ./tools

# Declared after the sources so every app shares the layers above.
ARG APP
RUN if [ -z "$APP" ]; then \
      echo "build with --build-arg APP=<a folder of apps/, or of tools/ ending in -sim>" >&2; exit 1; \
    fi; \
    case "$APP" in *-sim) entry="tools/$APP/src/main.ts" ;; *) entry="apps/$APP/src/main.ts" ;; esac; \
    if [ ! -f "$entry" ]; then echo "APP=$APP: there is no $entry" >&2; exit 1; fi
ENV APP=${APP}

# The node user (uid 1000) ships with the official image.
USER node
STOPSIGNAL SIGTERM
# `exec` makes node the direct child of the init process (compose `init: true`), so SIGTERM reaches it and
# Nest's shutdown hooks drain NATS, Redis and Postgres. APP can be overridden at run time: the image holds
# every entry.
CMD ["/bin/sh", "-c", "case \"$APP\" in *-sim) entry=\"tools/$APP/src/main.ts\" ;; *) entry=\"apps/$APP/src/main.ts\" ;; esac; exec node -r @swc-node/register \"$entry\""]
