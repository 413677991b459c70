package main

// Checks of the Helm chart under deploy/helm/authgate: helm lints it and
// renders it with its default values and with each values file of
// examples/, and the rendered manifests pass the checks the kustomizations
// pass (deploy_test.go): every authgate config parses, ports and probes
// agree with it, the config is mounted without subPath, the containers run
// non-root and read-only, forward-auth addresses and copied headers match,
// replicas share PostgreSQL behind a PodDisruptionBudget.
//
// helm is the pinned release of deploy/helm/tools/go.mod: `make test` builds
// it and names it in AUTHGATE_HELM; without that variable this test builds
// it itself (minutes the first time, cached afterwards).

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/authgate/authgate/proxy/keys"
)

// helmChart is the chart, relative to deploy/.
const helmChart = "helm/authgate"

// helmNamespace is the namespace the chart is rendered into.
const helmNamespace = "authgate-test"

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
)

// helmBinary returns the helm to run: $AUTHGATE_HELM, or one built from
// deploy/helm/tools. Without one the test skips, or fails under CI=true.
func helmBinary(t *testing.T) string {
	t.Helper()
	helmOnce.Do(func() {
		if p := os.Getenv("AUTHGATE_HELM"); p != "" {
			helmPath = p
			return
		}
		dir, err := os.MkdirTemp("", "authgate-helm-")
		if err != nil {
			helmErr = err
			return
		}
		out := filepath.Join(dir, "helm")
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "helm.sh/helm/v3/cmd/helm")
		cmd.Dir = filepath.Join(deployRoot, "helm", "tools")
		if b, err := cmd.CombinedOutput(); err != nil {
			helmErr = &helmBuildError{err: err, out: string(b)}
			return
		}
		helmPath = out
	})
	if helmErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("helm is required under CI (make test builds it from deploy/helm/tools): %v", helmErr)
		}
		t.Skipf("no helm (set AUTHGATE_HELM, or let this test build deploy/helm/tools): %v", helmErr)
	}
	return helmPath
}

type helmBuildError struct {
	err error
	out string
}

func (e *helmBuildError) Error() string { return "building helm: " + e.err.Error() + "\n" + e.out }

// runHelm runs helm with args and returns its stdout, stderr and error.
func runHelm(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, helmBinary(t), args...)
	// No repositories, plugins or caches of the machine's user.
	home := t.TempDir()
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// helmCases are the values the chart is linted and rendered with: its
// defaults and each file of examples/, with what each must render.
var helmCases = []struct {
	values string // relative to the chart; "" for the defaults
	set    []string
	mode   string
	// replicated: accounts on several replicas sharing PostgreSQL.
	replicated bool
}{
	{mode: "gateway"},
	{values: "examples/gateway.yaml", mode: "gateway"},
	{values: "examples/replicas.yaml", mode: "gateway", replicated: true},
	{values: "examples/sidecar.yaml", mode: "sidecar"},
	{values: "examples/ingress-nginx.yaml", mode: "ingress-nginx"},
	{values: "examples/traefik.yaml", mode: "traefik"},
	// The whole store URL from a Secret, in the environment.
	{values: "examples/replicas.yaml", mode: "gateway", replicated: true, set: []string{
		"store.postgres.url=", "store.postgres.urlSecret.name=authgate-db-url", "store.postgres.passwordSecret=",
	}},
	// Prometheus Operator resources.
	{values: "examples/gateway.yaml", mode: "gateway", set: []string{"metrics.serviceMonitor.enabled=true"}},
	{values: "examples/replicas.yaml", mode: "gateway", replicated: true, set: []string{
		"metrics.podMonitor.enabled=true", "metrics.serviceMonitor.enabled=true",
	}},
	// issuers only: no key, no Secret.
	{values: "examples/traefik.yaml", mode: "traefik", set: []string{
		"config.tokens=null", "signingKey.existingSecret=",
		"config.issuers[0].name=corp", "config.issuers[0].issuer=https://sso.example.com",
		"config.issuers[0].jwks_url=https://sso.example.com/jwks", "config.issuers[0].audience=todoapp",
		"config.issuers[0].algorithms[0]=RS256", "config.issuers[0].claim_headers.X-Auth-Tenant=tenant",
	}},
}

// helmArgs are the arguments naming the values of a case.
func helmArgs(values string, set []string) []string {
	var args []string
	if values != "" {
		args = append(args, "-f", filepath.Join(deployRoot, helmChart, values))
	}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	return args
}

func helmCaseName(values string, set []string) string {
	name := values
	if name == "" {
		name = "values.yaml"
	}
	if len(set) > 0 {
		name += " --set " + strings.Join(set, ",")
	}
	return name
}

// TestHelmChart lints and renders the chart with each case's values and
// checks the manifests like the kustomizations'.
func TestHelmChart(t *testing.T) {
	helmBinary(t)
	chart := filepath.Join(deployRoot, helmChart)

	// Every example is a case.
	examples, err := filepath.Glob(filepath.Join(chart, "examples", "*.yaml"))
	if err != nil || len(examples) == 0 {
		t.Fatalf("deploy/%s/examples: no values files: %v", helmChart, err)
	}
	for _, e := range examples {
		rel := "examples/" + filepath.Base(e)
		found := false
		for _, c := range helmCases {
			found = found || c.values == rel
		}
		if !found {
			t.Errorf("deploy/%s/%s is not among helmCases: add it, with its mode", helmChart, rel)
		}
	}

	for _, tc := range helmCases {
		t.Run(helmCaseName(tc.values, tc.set), func(t *testing.T) {
			t.Parallel()
			args := helmArgs(tc.values, tc.set)
			if out, stderr, err := runHelm(t, append([]string{"lint", "--strict", chart}, args...)...); err != nil {
				t.Fatalf("helm lint: %v\n%s%s", err, out, stderr)
			}
			out, stderr, err := runHelm(t, append([]string{"template", "authgate", chart, "--namespace", helmNamespace}, args...)...)
			if err != nil {
				t.Fatalf("helm template: %v\n%s", err, stderr)
			}
			k := helmRendered(t, helmCaseName(tc.values, tc.set), out)
			checkHelmRender(t, k, tc.mode, tc.replicated)
		})
	}
}

// helmRendered reads helm template's output as a kustomization: each
// object with the template it came from.
func helmRendered(t *testing.T, name, out string) *kustomization {
	t.Helper()
	k := &kustomization{dir: helmChart + " (" + name + ")", namespace: helmNamespace}
	source := regexp.MustCompile(`(?m)^# Source: authgate/(\S+)$`)
	for _, chunk := range regexp.MustCompile(`(?m)^---\s*$`).Split(out, -1) {
		if strings.TrimSpace(chunk) == "" {
			continue
		}
		file := helmChart + "/?"
		if m := source.FindStringSubmatch(chunk); m != nil {
			file = helmChart + "/" + m[1]
		}
		docs, err := deployDecode([]byte(chunk))
		if err != nil {
			t.Fatalf("%s: rendered %s does not parse: %v\n%s", k.dir, file, err, chunk)
		}
		for _, d := range docs {
			k.all = append(k.all, deployObject{file: file + " [" + name + "]", doc: d})
		}
	}
	if len(k.all) == 0 {
		t.Fatalf("%s: rendered nothing", k.dir)
	}
	return k
}

// checkHelmRender checks one rendering of the chart.
func checkHelmRender(t *testing.T, k *kustomization, mode string, replicated bool) {
	t.Helper()
	cfg := k.authgateConfig(t)

	for _, o := range k.all {
		obj := deployStr(o.doc, "kind") + "/" + o.name()
		if ns := deployStr(o.doc, "metadata", "namespace"); ns != helmNamespace {
			t.Errorf("deploy/%s: %s is in namespace %q, want the release's %q", o.file, obj, ns, helmNamespace)
		}
	}

	deps := k.objects("Deployment")
	if len(deps) != 1 {
		t.Fatalf("%s: want one Deployment, found %d", k.dir, len(deps))
	}
	d := deps[0]
	authgate := checkDeployment(t, k, d, cfg, mode == "sidecar")
	if authgate == nil {
		t.Fatalf("%s: the Deployment has no container named authgate", k.dir)
	}
	if ann, _ := deployDig(d.doc, "spec", "template", "metadata", "annotations").(map[string]any); ann != nil {
		for a := range ann {
			if strings.HasPrefix(a, "checksum/") {
				t.Errorf("deploy/%s: pod annotation %s restarts the pods on every config change; the config reloads in place", d.file, a)
			}
		}
	}

	// Services: traffic to authgate's port, the metrics Service to the
	// admin port.
	var services int
	for _, s := range k.objects("Service") {
		if deployStr(s.doc, "metadata", "labels", "app.kubernetes.io/component") == "metrics" {
			for _, p := range deployList(s.doc, "spec", "ports") {
				if got := authgate.port(deployDig(p, "targetPort")); got != deployAdminPort {
					t.Errorf("deploy/%s: Service %s: port targets %d, want the admin port %d", s.file, s.name(), got, deployAdminPort)
				}
			}
			continue
		}
		services++
		checkService(t, s, authgate)
	}
	if services != 1 {
		t.Errorf("%s: want one Service for traffic, found %d", k.dir, services)
	}

	switch mode {
	case "ingress-nginx":
		checkDecisionService(t, k, cfg, "/auth/verify")
	case "traefik":
		checkDecisionService(t, k, cfg, "/auth/forward")
	}
	if replicated {
		checkReplicated(t, k, d, cfg)
	}

	// Several replicas: a PodDisruptionBudget keeps some; one replica: none,
	// which would block every drain.
	replicas, _ := deployDig(d.doc, "spec", "replicas").(int)
	pdbs := k.objects("PodDisruptionBudget")
	switch {
	case replicas > 1 && len(pdbs) != 1:
		t.Errorf("%s: %d replicas need one PodDisruptionBudget, found %d", k.dir, replicas, len(pdbs))
	case replicas <= 1 && len(pdbs) != 0:
		t.Errorf("%s: a PodDisruptionBudget for one replica blocks every drain", k.dir)
	}
	labels, _ := deployDig(d.doc, "spec", "template", "metadata", "labels").(map[string]any)
	for _, p := range pdbs {
		if !deploySelects(deployDig(p.doc, "spec", "selector"), labels) {
			t.Errorf("deploy/%s: PodDisruptionBudget %s does not select the pods", p.file, p.name())
		}
	}

	// A NetworkPolicy selects the pods and lets the peer reach port 8000.
	nps := 0
	for _, np := range k.objects("NetworkPolicy") {
		if deploySelects(deployDig(np.doc, "spec", "podSelector"), labels) {
			nps++
		}
	}
	if nps != 1 {
		t.Errorf("%s: want one NetworkPolicy selecting authgate's pods, found %d", k.dir, nps)
	}

	// The generated signing key is one authgate loads.
	for _, s := range k.objects("Secret") {
		enc := deployStr(s.doc, "data", "signing-key.pem")
		pem, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			t.Errorf("deploy/%s: Secret %s: signing-key.pem is not base64: %v", s.file, s.name(), err)
			continue
		}
		if _, err := keys.Parse(pem); err != nil {
			t.Errorf("deploy/%s: Secret %s: signing-key.pem is not a key authgate loads: %v", s.file, s.name(), err)
		}
		if deployStr(s.doc, "metadata", "annotations", "helm.sh/resource-policy") != "keep" {
			t.Errorf("deploy/%s: Secret %s must survive helm uninstall (helm.sh/resource-policy: keep): losing the key invalidates every token", s.file, s.name())
		}
	}

	// Monitors scrape /metrics on the admin port.
	for _, kind := range []string{"ServiceMonitor", "PodMonitor"} {
		for _, m := range k.objects(kind) {
			eps := deployList(m.doc, "spec", "endpoints")
			if kind == "PodMonitor" {
				eps = deployList(m.doc, "spec", "podMetricsEndpoints")
			}
			for _, ep := range eps {
				if deployStr(ep, "port") != "admin" || deployStr(ep, "path") != "/metrics" {
					t.Errorf("deploy/%s: %s %s scrapes port %q path %q, want admin /metrics", m.file, kind, m.name(), deployStr(ep, "port"), deployStr(ep, "path"))
				}
			}
		}
	}
}

// TestHelmChartDefaults: monitoring is off unless asked for, and the chart
// renders no resource of a mode it is not in.
func TestHelmChartDefaults(t *testing.T) {
	chart := filepath.Join(deployRoot, helmChart)
	out, stderr, err := runHelm(t, "template", "authgate", chart, "--namespace", helmNamespace)
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr)
	}
	k := helmRendered(t, "values.yaml", out)
	for _, kind := range []string{"ServiceMonitor", "PodMonitor", "Ingress", "Middleware", "IngressRoute", "PodDisruptionBudget"} {
		if n := len(k.objects(kind)); n != 0 {
			t.Errorf("the default values render %d %s; want none", n, kind)
		}
	}
}

// TestHelmChartRefuses: values that cannot work are refused by
// values.schema.json or the chart, with a message naming the problem.
func TestHelmChartRefuses(t *testing.T) {
	chart := filepath.Join(deployRoot, helmChart)
	for _, tc := range []struct {
		name   string
		values string
		set    []string
		want   string
	}{
		{"unknown mode", "", []string{"mode=istio"}, "mode"},
		{"unknown key", "", []string{"replicas=3"}, "replicas"},
		{"sqlite on several replicas", "", []string{"replicaCount=2"}, "store.type sqlite"},
		{"listen set in config", "", []string{"config.listen=0.0.0.0:80"}, "listen"},
		{"store set in config", "", []string{"config.store=sqlite:/x.db"}, "store"},
		{"no routes", "", []string{"config.routes=null"}, "routes"},
		{"postgres without a URL", "", []string{"store.type=postgres"}, "store.postgres.url"},
		{"sidecar without an app", "", []string{"mode=sidecar"}, "sidecar.app"},
		{"sidecar app with ports", "examples/sidecar.yaml", []string{"sidecar.app.ports[0].containerPort=9000"}, "ports"},
		{"no signing key", "", []string{"signingKey.generate=false"}, "signingKey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"template", "authgate", chart, "--namespace", helmNamespace}, helmArgs(tc.values, tc.set)...)
			_, stderr, err := runHelm(t, args...)
			if err == nil {
				t.Fatalf("helm template %s: rendered, want a refusal", strings.Join(tc.set, " "))
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("helm template %s: the refusal does not name %q:\n%s", strings.Join(tc.set, " "), tc.want, stderr)
			}
		})
	}
}

// TestHelmChartRestarts: a change of the keys authgate reads at start only
// (store, postgres) changes the pod template, so the pods roll; any other
// config change leaves the pod template as it is, so the pods keep running
// and reload the ConfigMap in place.
func TestHelmChartRestarts(t *testing.T) {
	chart := filepath.Join(deployRoot, helmChart)
	podTemplate := func(set ...string) string {
		t.Helper()
		args := append([]string{"template", "authgate", chart, "--namespace", helmNamespace}, helmArgs("examples/replicas.yaml", set)...)
		out, stderr, err := runHelm(t, args...)
		if err != nil {
			t.Fatalf("helm template %v: %v\n%s", set, err, stderr)
		}
		k := helmRendered(t, "examples/replicas.yaml", out)
		deps := k.objects("Deployment")
		if len(deps) != 1 {
			t.Fatalf("want one Deployment, found %d", len(deps))
		}
		b, err := yaml.Marshal(deployDig(deps[0].doc, "spec", "template"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	base := podTemplate()
	for _, tc := range []struct {
		set   string
		rolls bool
	}{
		{"config.accounts.signup=open", false},
		{"config.tokens.access_ttl=5m", false},
		{"config.trusted_proxies[0]=10.1.0.0/16", false},
		{"config.postgres.max_conns=20", true},
		{"store.postgres.url=postgres://authgate@db.example.com:5432/authgate?sslmode=verify-full", true},
	} {
		if got := podTemplate(tc.set) != base; got != tc.rolls {
			t.Errorf("--set %s: the pod template changed: %v, want %v", tc.set, got, tc.rolls)
		}
	}
}
