# authgate: `make demo` runs the demo, `make test` runs vet and every test.
GO      ?= go
BIN     := bin
CONFIG  ?= config.example.yaml
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
IMAGE   ?= authgate
# helm at the release pinned in deploy/helm/tools/go.mod (its own module, so
# helm's libraries stay out of go.mod), for the chart tests.
HELM    := $(abspath $(BIN))/helm

.PHONY: all build image demo test bench load loadtest soak fuzz check clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

# The container image, tagged and stamped with `git describe`
# ($(IMAGE):$(VERSION)); `authgate version` and the OCI labels say the same.
image:
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) \
	  --build-arg CREATED=$$(date -u +%Y-%m-%dT%H:%M:%SZ) -t $(IMAGE):$(VERSION) .

$(HELM): deploy/helm/tools/go.mod deploy/helm/tools/go.sum
	cd deploy/helm/tools && $(GO) build -o $(HELM) helm.sh/helm/v3/cmd/helm

# Runs todoapp on 127.0.0.1:9000 and authgate on 127.0.0.1:8000 with
# $(CONFIG). Ctrl-C stops both. State lives under data/ (git-ignored).
demo: build
	@mkdir -p data
	@test -f data/signing-key.pem || $(BIN)/authgate keys generate -out data/signing-key.pem
	@$(BIN)/authgate check -config $(CONFIG)
	@trap 'kill $$app 2>/dev/null; wait $$app 2>/dev/null' EXIT; \
	  $(BIN)/todoapp -listen 127.0.0.1:9000 & app=$$!; \
	  $(BIN)/authgate serve -config $(CONFIG) -log-format text

# The chart tests (cmd/authgate) run $(HELM): helm lint and helm template
# of deploy/helm/authgate in every mode.
test: $(HELM)
	$(GO) vet ./...
	AUTHGATE_HELM=$(HELM) $(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run='^(TestAddedAllocations|TestCORSAllocations|TestChargedBytesCoverHeap)$$' ./proxy ./proxy/tokencache

# Every Go benchmark with allocations, TestAddedAllocations (authgate adds
# at most 20 allocations per request to a bare ReverseProxy),
# TestCORSAllocations (a CORS policy adds at most 2) and
# TestChargedBytesCoverHeap (token_cache.max_bytes bounds real memory),
# which need a build without the race detector.
bench:
	$(GO) test -run='^(TestAddedAllocations|TestCORSAllocations|TestChargedBytesCoverHeap)$$' -bench=. -benchmem ./...

# 100 concurrent clients against a real authgate process (loopback), on
# SQLite and on PostgreSQL (AUTHGATE_TEST_POSTGRES_URL; see .ci/run), then
# how fast a logout at one process reaches another on the same store.
load:
	$(GO) test -run='^$$' -bench='^BenchmarkServer(Login|Refresh)' -benchtime=400x ./cmd/authgate
	$(GO) test -run='^$$' -bench='^BenchmarkServerRevocationPropagation' -benchtime=20x ./cmd/authgate

# authgate side by side with a bare httputil.ReverseProxy under wrk (see
# BENCHMARKS.md); needs wrk and taskset. LOADTEST_FLAGS, e.g.
# "-rounds 3 -duration 5s -cases EdDSA".
LOADTEST_FLAGS ?=
loadtest:
	$(GO) build -o $(BIN)/loadtest ./cmd/loadtest
	$(BIN)/loadtest $(LOADTEST_FLAGS)

# Mixed traffic with faults against a real process for SOAK (10 minutes by
# default): no unexpected 5xx, no lost writes, flat memory and goroutines.
SOAK ?= 10m
soak:
	AUTHGATE_SOAK=$(SOAK) $(GO) test -run='^TestSoak$$' -count=1 -timeout=0 -v ./cmd/authgate

# Runs each fuzz target for FUZZTIME (the seed corpora already run in `make test`).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

check: build
	$(BIN)/authgate check -config $(CONFIG)

clean:
	rm -rf $(BIN)
