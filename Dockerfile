# syntax=docker/dockerfile:1
# authgate: a static binary on a minimal, non-root base.
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
COPY --from=build /out/authgate /usr/local/bin/authgate
USER 65532:65532
EXPOSE 8000 9191
# Health: GET /healthz on admin_listen (bind it to 0.0.0.0:9191 in the
# container's config so probes reach it).
ENTRYPOINT ["authgate", "serve", "-config", "/etc/authgate/config.yaml"]
