package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfile: the image is stamped with the version it was built from
// (build arguments, which `make image` fills from git describe) in the
// binary and in its OCI labels, runs as the non-root user the deployment
// files expect, and reads its config where they mount it.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(deployRoot, "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// Join continuation lines, drop comments.
	var lines []string
	var cur strings.Builder
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		if s, ok := strings.CutSuffix(l, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(l)
		lines = append(lines, strings.TrimSpace(cur.String()))
		cur.Reset()
	}

	// The stages: what comes after the last FROM is the image.
	last := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "FROM ") {
			last = i
		}
	}
	if last < 0 {
		t.Fatal("Dockerfile: no FROM")
	}
	build, final := strings.Join(lines[:last], "\n"), lines[last:]

	if !regexp.MustCompile(`-X main\.version=\$\{VERSION\}`).MatchString(build) ||
		!regexp.MustCompile(`-X main\.commit=\$\{COMMIT\}`).MatchString(build) {
		t.Errorf("Dockerfile: the build stage must stamp -X main.version=${VERSION} -X main.commit=${COMMIT}")
	}

	labels := map[string]string{}
	args := map[string]bool{}
	var user, entrypoint, healthcheck string
	env := map[string]string{}
	labelRe := regexp.MustCompile(`([a-z0-9.]+)="([^"]*)"`)
	for _, l := range final {
		switch verb, rest, _ := strings.Cut(l, " "); verb {
		case "ARG":
			name, _, _ := strings.Cut(rest, "=")
			args[name] = true
		case "LABEL":
			for _, m := range labelRe.FindAllStringSubmatch(rest, -1) {
				labels[m[1]] = m[2]
			}
		case "USER":
			user = rest
		case "ENTRYPOINT":
			entrypoint = rest
		case "ENV":
			k, v, _ := strings.Cut(rest, "=")
			env[k] = v
		case "HEALTHCHECK":
			healthcheck = rest
		}
	}
	for key, want := range map[string]string{
		"org.opencontainers.image.version":  "${VERSION}",
		"org.opencontainers.image.revision": "${COMMIT}",
		"org.opencontainers.image.licenses": "Apache-2.0",
		"org.opencontainers.image.title":    "authgate",
	} {
		if got := labels[key]; got != want {
			t.Errorf("Dockerfile: LABEL %s is %q, want %q", key, got, want)
		}
	}
	for _, key := range []string{"org.opencontainers.image.source", "org.opencontainers.image.created", "org.opencontainers.image.description"} {
		if _, ok := labels[key]; !ok {
			t.Errorf("Dockerfile: LABEL %s is missing", key)
		}
	}
	for _, a := range []string{"VERSION", "COMMIT"} {
		if !args[a] {
			t.Errorf("Dockerfile: the final stage must declare ARG %s, or its labels say nothing", a)
		}
	}
	if user != "65532:65532" {
		t.Errorf("Dockerfile: USER %q, want 65532:65532 (the deployment files run as that uid)", user)
	}
	if !strings.Contains(entrypoint, `"`+deployConfigPath+`"`) {
		t.Errorf("Dockerfile: ENTRYPOINT %s does not read %s, where the deployment files mount the config", entrypoint, deployConfigPath)
	}

	// The healthcheck runs the binary itself (distroless has no shell or
	// curl), finding the config through $AUTHGATE_CONFIG.
	if !strings.HasSuffix(healthcheck, `CMD ["authgate", "healthcheck", "-timeout", "4s"]`) {
		t.Errorf("Dockerfile: HEALTHCHECK %q, want one running [\"authgate\", \"healthcheck\", ...]", healthcheck)
	}
	if env["AUTHGATE_CONFIG"] != deployConfigPath {
		t.Errorf("Dockerfile: ENV AUTHGATE_CONFIG=%q, want %s (where the deployment files mount the config)", env["AUTHGATE_CONFIG"], deployConfigPath)
	}

	// make image passes what git describe says.
	mk, err := os.ReadFile(filepath.Join(deployRoot, "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mk), "git describe") || !strings.Contains(string(mk), "--build-arg VERSION=$(VERSION)") {
		t.Errorf("Makefile: `make image` must pass --build-arg VERSION=$(VERSION), with VERSION from git describe")
	}
}
