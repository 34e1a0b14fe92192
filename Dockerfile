# syntax=docker/dockerfile:1
# The intake-hub image: Node 22 LTS, production dependencies only, runs as uid 1000 with a
# read-only root filesystem; the only writable path is the volume /var/lib/intake-hub (plus /tmp
# if you mount one). Operations: docs/OPERATIONS.md.
#
#   docker build -t intake-hub:0.1.0 .
#
# No Docker engine runs in this project's CI: deploy/docker/check.sh runs the same build steps
# (deploy/docker/build.sh, called below) in a clean directory with the same Node version, and
# starts the result as a non-root user on a read-only tree.
ARG NODE_VERSION=22.23.5
ARG DEBIAN_RELEASE=bookworm

FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS build
# Toolchain of the native Kafka client (@confluentinc/kafka-javascript builds librdkafka from
# source, linked against the system's OpenSSL and zlib: CKJS_LINKING=dynamic in build.sh).
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make python3 libssl-dev zlib1g-dev ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
COPY deploy/docker/build.sh deploy/docker/build.sh
RUN bash deploy/docker/build.sh deps
COPY . .
RUN bash deploy/docker/build.sh app /out

FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS runtime
# Run-time libraries of the native client; nothing else is added to the base image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 zlib1g ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/intake-hub /etc/intake-hub \
 && chown 1000:1000 /var/lib/intake-hub
WORKDIR /app
# Owned by root: uid 1000 cannot change the code even without a read-only root filesystem.
COPY --from=build /out/ /app/
# Relative default paths of the hub (var/embedded, …) resolve into the volume.
RUN ln -s /var/lib/intake-hub /app/var
USER 1000:1000
VOLUME ["/var/lib/intake-hub"]
# 8080 intake listener (senders), 8081 admin listener (console, API, /metrics; keep it internal)
EXPOSE 8080 8081
ENTRYPOINT ["node", "/app/dist/core/cli/main.js"]
CMD ["start", "--config", "/etc/intake-hub/hub.yaml"]
