# syntax=docker/dockerfile:1
# todoapp, the example upstream: a static binary on a minimal, non-root base.
# Build from the repository root:
#   docker build -f deploy/compose/todoapp.Dockerfile -t todoapp .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd/todoapp ./cmd/todoapp
RUN CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o /out/todoapp ./cmd/todoapp

# distroless/static: no shell, uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/todoapp /usr/local/bin/todoapp
USER 65532:65532
EXPOSE 9000
# todoapp trusts X-Auth-Subject: never publish this port, only authgate may
# reach it (compose.yaml puts it on an internal network).
ENTRYPOINT ["todoapp"]
CMD ["-listen", "0.0.0.0:9000"]
