# syntax=docker/dockerfile:1
# authgate: a static binary on a minimal, non-root base.
#
#   make image        # docker build with VERSION and COMMIT from git describe
#
# A plain `docker build .` works too and says version "dev": the build
# context has no .git to describe.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY config ./config
COPY proxy ./proxy
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
    -o /out/authgate ./cmd/authgate

# distroless/static: CA certificates and tzdata, no shell, uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG COMMIT=unknown
ARG CREATED=""
LABEL org.opencontainers.image.title="authgate" \
      org.opencontainers.image.description="Authentication reverse proxy: accounts, JWT verification per route, forward auth for nginx, Traefik, Caddy and Envoy" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/authgate/authgate" \
      org.opencontainers.image.url="https://github.com/authgate/authgate" \
      org.opencontainers.image.documentation="https://github.com/authgate/authgate#readme" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"
COPY --from=build /out/authgate /usr/local/bin/authgate
USER 65532:65532
EXPOSE 8000 9191
# Every command's -config defaults to this: 'docker exec CONTAINER authgate
# users list' needs no flag.
ENV AUTHGATE_CONFIG=/etc/authgate/config.yaml
# Health: 'authgate healthcheck' asks GET /readyz on the config's
# admin_listen (from inside the container, so loopback works too) and exits
# 0 on 200. Orchestrators probing from outside (Kubernetes) should bind
# admin_listen to 0.0.0.0:9191 and ask /healthz and /readyz themselves.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["authgate", "healthcheck", "-timeout", "4s"]
ENTRYPOINT ["authgate", "serve", "-config", "/etc/authgate/config.yaml"]
