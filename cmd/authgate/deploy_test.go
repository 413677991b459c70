package main

// Checks of the deployment files under deploy/: every authgate config in
// them is valid, the Kubernetes manifests agree with those configs (ports,
// probes, mounts, forward-auth addresses, identity headers) and render with
// kustomize, the setups with several replicas share a PostgreSQL store
// safely, and the Envoy and Compose files point where the authgate configs
// beside them listen.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/authgate/authgate/config"
)

// deployRoot is the repository's deploy/ directory, seen from this package.
const deployRoot = "../../deploy"

// Where the container images put things (Dockerfile), and the ports the
// deployment files use for authgate.
const (
	deployConfigPath = "/etc/authgate/config.yaml"
	deployHTTPPort   = 8000
	deployAdminPort  = 9191
)

// deployEnv holds the values of the ${VAR}s used by deployment configs:
// the Helm chart's store URL from a Secret. Any other ${VAR} gets a
// placeholder long enough for hmac_secret.
var deployEnv = map[string]string{
	"AUTHGATE_STORE_URL": "postgres://authgate:placeholder@postgres:5432/authgate?sslmode=prefer",
}

func deployLookupEnv(name string) (string, bool) {
	if v, ok := deployEnv[name]; ok {
		return v, true
	}
	return "placeholder-for-deploy-test-" + strings.Repeat("x", 32), true
}

// deployConfig is an authgate configuration found under deploy/.
type deployConfig struct {
	name string // file, and "#ConfigMap/name" for one inside a ConfigMap
	data []byte
}

// deployConfigs finds every authgate configuration under deploy/: files
// named authgate.yaml or authgate.*.yaml, and the config.yaml of every
// ConfigMap in the Kubernetes manifests.
func deployConfigs(t *testing.T) []deployConfig {
	t.Helper()
	var out []deployConfig
	err := filepath.WalkDir(deployRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := deployRel(p)
		switch {
		case d.Name() == "authgate.yaml" || strings.HasPrefix(d.Name(), "authgate.") && deployIsYAML(p):
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out = append(out, deployConfig{name: rel, data: data})
		case strings.HasPrefix(rel, "kubernetes/") && deployIsYAML(p):
			for _, doc := range deployDocs(t, p) {
				if deployStr(doc, "kind") != "ConfigMap" {
					continue
				}
				if s, ok := deployDig(doc, "data", "config.yaml").(string); ok {
					out = append(out, deployConfig{
						name: rel + "#ConfigMap/" + deployStr(doc, "metadata", "name"),
						data: []byte(s),
					})
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", deployRoot, err)
	}
	return out
}

// TestDeployConfigs: every authgate configuration under deploy/ is valid.
func TestDeployConfigs(t *testing.T) {
	found := deployConfigs(t)
	byFile := map[string]bool{}
	for _, c := range found {
		file, _, _ := strings.Cut(c.name, "#")
		byFile[file] = true
	}
	for _, want := range []string{
		"kubernetes/sidecar/configmap.yaml",
		"kubernetes/ingress-nginx/configmap.yaml",
		"kubernetes/traefik/configmap.yaml",
		"kubernetes/replicas/configmap.yaml",
		"envoy/authgate.yaml",
		"compose/authgate.yaml",
		"compose/authgate.postgres.yaml",
	} {
		if !byFile[want] {
			t.Errorf("deploy/%s: no authgate config found there", want)
		}
	}
	for _, c := range found {
		t.Run(c.name, func(t *testing.T) {
			if _, err := config.Parse(c.name, c.data, deployLookupEnv); err != nil {
				t.Errorf("deploy/%s: invalid authgate config:\n%v", c.name, err)
			}
		})
	}
}

// deployKustomizations are the Kubernetes setups and what each must hold.
var deployKustomizations = []struct {
	dir string
	// sidecar: the app runs in authgate's pod, bound to loopback.
	sidecar bool
	// decisionPath is the endpoint the peer asks ("" for a sidecar).
	decisionPath string
	// replicated: accounts served by several replicas on one PostgreSQL
	// store (checkReplicated).
	replicated bool
}{
	{dir: "kubernetes/sidecar", sidecar: true},
	{dir: "kubernetes/ingress-nginx", decisionPath: "/auth/verify"},
	{dir: "kubernetes/traefik", decisionPath: "/auth/forward"},
	{dir: "kubernetes/replicas", replicated: true},
}

// TestDeployKubernetes checks each kustomization's manifests against the
// authgate config they deploy.
func TestDeployKubernetes(t *testing.T) {
	for _, tc := range deployKustomizations {
		t.Run(tc.dir, func(t *testing.T) {
			k := loadKustomization(t, tc.dir)
			cfg := k.authgateConfig(t)

			deps := k.objects("Deployment")
			if len(deps) == 0 {
				t.Fatalf("deploy/%s: no Deployment", tc.dir)
			}
			var authgate *deployContainer
			var authgateDep deployObject
			for _, d := range deps {
				if c := checkDeployment(t, k, d, cfg, tc.sidecar); c != nil {
					authgate, authgateDep = c, d
				}
			}
			if authgate == nil {
				t.Fatalf("deploy/%s: no Deployment has a container named authgate", tc.dir)
			}

			svcs := k.objects("Service")
			if len(svcs) == 0 {
				t.Errorf("deploy/%s: no Service", tc.dir)
			}
			for _, s := range svcs {
				checkService(t, s, authgate)
			}

			if tc.decisionPath != "" {
				checkDecisionService(t, k, cfg, tc.decisionPath)
			}
			if tc.replicated {
				checkReplicated(t, k, authgateDep, cfg)
			}
		})
	}
}

// deployContainer is a container of a Deployment, with what the checks
// need to resolve named ports.
type deployContainer struct {
	file  string
	spec  map[string]any
	ports map[string]int // name (and decimal number) -> containerPort
}

func (c *deployContainer) name() string { return deployStr(c.spec, "name") }

// port resolves a port given by number or by name; 0 if unknown.
func (c *deployContainer) port(v any) int {
	switch p := v.(type) {
	case int:
		return p
	case string:
		if n, ok := c.ports[p]; ok {
			return n
		}
		n, _ := strconv.Atoi(p)
		return n
	}
	return 0
}

// checkDeployment checks one Deployment and returns its authgate container
// (nil if it has none).
func checkDeployment(t *testing.T, k *kustomization, d deployObject, cfg *config.Config, sidecar bool) *deployContainer {
	t.Helper()
	where := "deploy/" + d.file + ": Deployment " + d.name()
	pod := deployDig(d.doc, "spec", "template", "spec")
	podRunAsNonRoot, _ := deployDig(pod, "securityContext", "runAsNonRoot").(bool)
	podSeccomp := deployStr(pod, "securityContext", "seccompProfile", "type")
	podUser, _ := deployDig(pod, "securityContext", "runAsUser").(int)
	if deployDig(pod, "automountServiceAccountToken") != false {
		t.Errorf("%s: automountServiceAccountToken must be false: authgate never talks to the Kubernetes API", where)
	}

	volumes := map[string]map[string]any{}
	for _, v := range deployList(pod, "volumes") {
		m, _ := v.(map[string]any)
		volumes[deployStr(m, "name")] = m
	}

	var authgate, app *deployContainer
	for _, raw := range deployList(pod, "containers") {
		spec, _ := raw.(map[string]any)
		c := &deployContainer{file: d.file, spec: spec, ports: map[string]int{}}
		for _, p := range deployList(spec, "ports") {
			n, _ := deployDig(p, "containerPort").(int)
			c.ports[strconv.Itoa(n)] = n
			if name := deployStr(p, "name"); name != "" {
				c.ports[name] = n
			}
		}
		cw := where + " container " + c.name()

		// Every container: non-root, read-only, nothing to escalate.
		sc := deployDig(spec, "securityContext")
		if ro, _ := deployDig(sc, "readOnlyRootFilesystem").(bool); !ro {
			t.Errorf("%s: securityContext.readOnlyRootFilesystem must be true", cw)
		}
		if nr, ok := deployDig(sc, "runAsNonRoot").(bool); !(nr || !ok && podRunAsNonRoot) {
			t.Errorf("%s: runAsNonRoot must be true (container or pod securityContext)", cw)
		}
		if ape, ok := deployDig(sc, "allowPrivilegeEscalation").(bool); !ok || ape {
			t.Errorf("%s: securityContext.allowPrivilegeEscalation must be false", cw)
		}
		if !slices.Contains(deployList(sc, "capabilities", "drop"), any("ALL")) {
			t.Errorf("%s: securityContext.capabilities.drop must contain ALL", cw)
		}
		if sp := deployStr(sc, "seccompProfile", "type"); sp != "RuntimeDefault" && !(sp == "" && podSeccomp == "RuntimeDefault") {
			t.Errorf("%s: seccompProfile.type must be RuntimeDefault (container or pod securityContext)", cw)
		}
		if u, ok := deployDig(sc, "runAsUser").(int); ok && u != 65532 || !ok && podUser != 65532 {
			t.Errorf("%s: runAsUser must be 65532, the images' non-root user (container or pod securityContext)", cw)
		}
		// The config reaches every container when the ConfigMap changes: a
		// subPath mount is a copy that updates never reach, so the file
		// watcher would never see a change.
		for _, m := range deployList(spec, "volumeMounts") {
			if deployStr(volumes[deployStr(m, "name")], "configMap", "name") == k.configMapName && deployStr(m, "subPath") != "" {
				t.Errorf("%s: mounts ConfigMap %s with subPath %q: ConfigMap updates never reach a subPath mount, so the config would not reload; mount the directory",
					cw, k.configMapName, deployStr(m, "subPath"))
			}
		}
		for _, kind := range []string{"requests", "limits"} {
			if deployDig(spec, "resources", kind) == nil {
				t.Errorf("%s: resources.%s are missing", cw, kind)
			}
		}

		if c.name() == "authgate" {
			authgate = c
		} else {
			app = c
		}
	}
	if authgate == nil {
		return nil
	}
	aw := where + " container authgate"

	// Ports: the container's, the config's and the probes' agree.
	for _, want := range []int{deployHTTPPort, deployAdminPort} {
		if authgate.port(strconv.Itoa(want)) == 0 {
			t.Errorf("%s: ports must include containerPort %d", aw, want)
		}
	}
	listenHost, listenPort := deployAddr(t, k.configName, "listen", cfg.Listen)
	adminHost, adminPort := deployAddr(t, k.configName, "admin_listen", cfg.AdminListen)
	if listenPort != deployHTTPPort || adminPort != deployAdminPort {
		t.Errorf("deploy/%s: listen %q and admin_listen %q must use ports %d and %d, the container ports of %s",
			k.configName, cfg.Listen, cfg.AdminListen, deployHTTPPort, deployAdminPort, aw)
	}
	for _, h := range []string{listenHost, adminHost} {
		if h != "" && h != "0.0.0.0" && h != "::" {
			t.Errorf("deploy/%s: listen and admin_listen must bind every address of the pod (0.0.0.0), not %q: the Service and the kubelet's probes connect to the pod's IP",
				k.configName, h)
		}
	}
	for _, p := range []struct{ probe, path string }{
		{"readinessProbe", "/readyz"},
		{"livenessProbe", "/healthz"},
	} {
		get := deployDig(authgate.spec, p.probe, "httpGet")
		if got := deployStr(get, "path"); got != p.path {
			t.Errorf("%s: %s.httpGet.path is %q, want %q", aw, p.probe, got, p.path)
		}
		if got := authgate.port(deployDig(get, "port")); got != adminPort {
			t.Errorf("%s: %s.httpGet.port is %v (%d), want the admin port %d", aw, p.probe, deployDig(get, "port"), got, adminPort)
		}
	}

	// Mounts: the config where the image reads it, the key from a Secret,
	// the store on a writable volume (the root file system is read-only).
	// The config is the directory /etc/authgate, mounted from the ConfigMap
	// without subPath: a subPath mount is a copy that ConfigMap updates
	// never reach, so the file watcher would never see a change. Nothing
	// else may be mounted below that directory.
	mounts := deployList(authgate.spec, "volumeMounts")
	configVol := deployMountFor(mounts, deployConfigPath)
	configDir := path.Dir(deployConfigPath)
	vol := volumes[deployStr(configVol, "name")]
	switch mp := deployStr(configVol, "mountPath"); {
	case configVol == nil || mp != configDir:
		t.Errorf("%s: no volumeMount of the directory %s (where the image reads %s)", aw, configDir, deployConfigPath)
	case deployStr(vol, "configMap", "name") != k.configMapName:
		t.Errorf("%s: %s must come from ConfigMap %s", aw, mp, k.configMapName)
	default:
		if items := deployList(vol, "configMap", "items"); len(items) > 0 && !slices.ContainsFunc(items, func(it any) bool {
			return deployStr(it, "key") == "config.yaml" && deployStr(it, "path") == path.Base(deployConfigPath)
		}) {
			t.Errorf("%s: the items of volume %s must map key config.yaml to path %s", aw, deployStr(configVol, "name"), path.Base(deployConfigPath))
		}
		for _, m := range mounts {
			if other := deployStr(m, "mountPath"); strings.HasPrefix(other, configDir+"/") {
				t.Errorf("%s: volumeMount %s lies inside the ConfigMap mount %s: mount it elsewhere", aw, other, configDir)
			}
		}
	}
	if cfg.Tokens != nil && cfg.Tokens.SigningKey != "" {
		key := cfg.Tokens.SigningKey
		m := deployMountFor(mounts, key)
		switch {
		case !path.IsAbs(key):
			t.Errorf("deploy/%s: tokens.signing_key %q must be absolute: the config's directory is a read-only ConfigMap mount", k.configName, key)
		case m == nil:
			t.Errorf("%s: no volumeMount holds tokens.signing_key %s", aw, key)
		case deployDig(volumes[deployStr(m, "name")], "secret") == nil:
			t.Errorf("%s: tokens.signing_key %s must come from a Secret volume", aw, key)
		}
	}
	if file, ok := strings.CutPrefix(cfg.Store, "sqlite:"); ok {
		m := deployMountFor(mounts, file)
		switch {
		case !path.IsAbs(file):
			t.Errorf("deploy/%s: store %q must be an absolute path on a writable volume", k.configName, cfg.Store)
		case m == nil || deployStr(m, "mountPath") == file:
			t.Errorf("%s: the directory of store %s must be a volumeMount: the root file system is read-only", aw, file)
		case deployDig(m, "readOnly") == true:
			t.Errorf("%s: the volumeMount holding store %s must be writable", aw, file)
		}
	}

	if config.IsPostgres(cfg.Store) {
		pw := ""
		if cfg.Postgres != nil {
			pw = cfg.Postgres.PasswordFile
		}
		if pw != "" && !path.IsAbs(pw) {
			pw = path.Join(configDir, pw)
		}
		m := deployMountFor(mounts, pw)
		switch {
		case pw == "" && deployStoreFromSecret(k, authgate.spec):
			// The whole URL, password included, comes from a Secret.
		case pw == "":
			t.Errorf("deploy/%s: store is PostgreSQL but postgres.password_file is not set: the password must come from a Secret volume (or the whole store URL from a Secret in the environment), never the ConfigMap", k.configName)
		case m == nil:
			t.Errorf("%s: no volumeMount holds postgres.password_file %s", aw, pw)
		case deployDig(volumes[deployStr(m, "name")], "secret") == nil:
			t.Errorf("%s: postgres.password_file %s must come from a Secret volume, not %s", aw, pw, deployStr(m, "name"))
		}
	}

	if sidecar {
		checkSidecarApp(t, where, app, cfg, k.configName)
	}
	return authgate
}

// deployStoreFromSecret reports whether the config's store is a single
// ${VAR} that the container takes from a Secret (env valueFrom.secretKeyRef).
func deployStoreFromSecret(k *kustomization, container map[string]any) bool {
	var raw string
	for _, cm := range k.objects("ConfigMap") {
		if cm.name() == k.configMapName {
			raw = deployStr(cm.doc, "data", "config.yaml")
		}
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(raw), &doc); err != nil {
		return false
	}
	m := regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`).FindStringSubmatch(deployStr(doc, "store"))
	if m == nil {
		return false
	}
	for _, e := range deployList(container, "env") {
		if deployStr(e, "name") == m[1] && deployStr(e, "valueFrom", "secretKeyRef", "name") != "" {
			return true
		}
	}
	return false
}

// checkSidecarApp: the app beside authgate listens on loopback only, and is
// where authgate's routes go.
func checkSidecarApp(t *testing.T, where string, app *deployContainer, cfg *config.Config, configName string) {
	t.Helper()
	if app == nil {
		t.Errorf("%s: no app container beside authgate", where)
		return
	}
	cw := where + " container " + app.name()
	var listen string
	args := deployList(app.spec, "args")
	for i, a := range args {
		s, _ := a.(string)
		if v, ok := strings.CutPrefix(strings.TrimLeft(s, "-"), "listen="); ok {
			listen = v
		} else if strings.TrimLeft(s, "-") == "listen" && i+1 < len(args) {
			listen, _ = args[i+1].(string)
		}
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("%s: args %v must bind the app to 127.0.0.1 (-listen 127.0.0.1:PORT), so that only authgate reaches it", cw, args)
	}
	if len(app.ports) > 0 {
		t.Errorf("%s: declares ports; the app listens on loopback and must not be exposed", cw)
	}
	for _, r := range cfg.Routes {
		if u, err := url.Parse(r.Upstream); err != nil || u.Host != listen {
			t.Errorf("deploy/%s: route %s: upstream %q is not the app's %s", configName, r.Name, r.Upstream, listen)
		}
	}
}

// checkService: a Service sends traffic to authgate's traffic port, never
// to the admin port or the app.
func checkService(t *testing.T, s deployObject, authgate *deployContainer) {
	t.Helper()
	where := "deploy/" + s.file + ": Service " + s.name()
	ports := deployList(s.doc, "spec", "ports")
	if len(ports) == 0 {
		t.Errorf("%s: no ports", where)
	}
	for _, p := range ports {
		target := deployDig(p, "targetPort")
		if target == nil {
			target = deployDig(p, "port")
		}
		if got := authgate.port(target); got != deployHTTPPort {
			t.Errorf("%s: port %v targets %v (%d), want authgate's traffic port %d", where, deployDig(p, "port"), target, got, deployHTTPPort)
		}
	}
}

// checkDecisionService checks a setup where a peer asks authgate: the
// peer's address for authgate, the identity headers it copies, and the
// hosts it routes.
func checkDecisionService(t *testing.T, k *kustomization, cfg *config.Config, decisionPath string) {
	t.Helper()
	if len(cfg.TrustedProxies) == 0 {
		t.Errorf("deploy/%s: trusted_proxies is empty: authgate refuses forward-auth requests from unlisted peers", k.configName)
	}

	var address, where string
	var copied []string
	var hosts []string
	switch decisionPath {
	case "/auth/verify":
		ings := k.objects("Ingress")
		if len(ings) != 1 {
			t.Fatalf("deploy/%s: want one Ingress, found %d", k.dir, len(ings))
		}
		ing := ings[0]
		where = "deploy/" + ing.file + ": Ingress " + ing.name()
		ann := deployDig(ing.doc, "metadata", "annotations")
		address = deployStr(ann, "nginx.ingress.kubernetes.io/auth-url")
		for _, h := range strings.Split(deployStr(ann, "nginx.ingress.kubernetes.io/auth-response-headers"), ",") {
			copied = append(copied, strings.TrimSpace(h))
		}
		for _, r := range deployList(ing.doc, "spec", "rules") {
			hosts = append(hosts, deployStr(r, "host"))
		}
	case "/auth/forward":
		mws := k.objects("Middleware")
		if len(mws) != 1 {
			t.Fatalf("deploy/%s: want one Traefik Middleware, found %d", k.dir, len(mws))
		}
		mw := mws[0]
		where = "deploy/" + mw.file + ": Middleware " + mw.name()
		fa := deployDig(mw.doc, "spec", "forwardAuth")
		address = deployStr(fa, "address")
		if tf, _ := deployDig(fa, "trustForwardHeader").(bool); !tf {
			t.Errorf("%s: forwardAuth.trustForwardHeader must be true", where)
		}
		for _, h := range deployList(fa, "authResponseHeaders") {
			s, _ := h.(string)
			copied = append(copied, s)
		}
		routes := k.objects("IngressRoute")
		if len(routes) == 0 {
			t.Errorf("deploy/%s: no IngressRoute uses the Middleware", k.dir)
		}
		hostRule := regexp.MustCompile("Host\\(`([^`]+)`\\)")
		for _, ir := range routes {
			for _, r := range deployList(ir.doc, "spec", "routes") {
				var names []string
				for _, m := range deployList(r, "middlewares") {
					names = append(names, deployStr(m, "name"))
				}
				if !slices.Contains(names, mw.name()) {
					t.Errorf("deploy/%s: IngressRoute %s: route %q does not use Middleware %s",
						ir.file, ir.name(), deployStr(r, "match"), mw.name())
				}
				for _, m := range hostRule.FindAllStringSubmatch(deployStr(r, "match"), -1) {
					hosts = append(hosts, m[1])
				}
			}
		}
	}

	// The address: <Service>.<namespace>.svc.cluster.local:<port><decisionPath>,
	// a Service of this kustomization whose port reaches authgate.
	u, err := url.Parse(address)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" {
		t.Fatalf("%s: forward-auth address %q is not an http(s) URL", where, address)
	}
	if u.Path != decisionPath {
		t.Errorf("%s: forward-auth address %q must end with %s", where, address, decisionPath)
	}
	svcHost := strings.TrimSuffix(u.Hostname(), ".svc.cluster.local")
	svcName, ns, _ := strings.Cut(svcHost, ".")
	if ns != k.namespace {
		t.Errorf("%s: forward-auth address %q names namespace %q, but kustomization.yaml deploys into %q", where, address, ns, k.namespace)
	}
	var svcPorts []int
	for _, s := range k.objects("Service") {
		if s.name() == svcName {
			for _, p := range deployList(s.doc, "spec", "ports") {
				n, _ := deployDig(p, "port").(int)
				svcPorts = append(svcPorts, n)
			}
		}
	}
	port := 80
	if u.Port() != "" {
		port, _ = strconv.Atoi(u.Port())
	}
	if !slices.Contains(svcPorts, port) {
		t.Errorf("%s: forward-auth address %q: no Service %s with port %d in deploy/%s", where, address, svcName, port, k.dir)
	}

	// Every identity header authgate may answer must be copied by the
	// peer: a header it does not copy passes from the client to the app.
	for _, h := range deployIdentityHeaders(cfg) {
		if !slices.ContainsFunc(copied, func(c string) bool { return strings.EqualFold(c, h) }) {
			t.Errorf("%s: identity header %s of deploy/%s is not among the headers copied from authgate's answer %v",
				where, h, k.configName, copied)
		}
	}

	// Every host the peer sends to authgate has routes there; otherwise
	// all its requests are denied.
	if len(hosts) == 0 {
		t.Errorf("deploy/%s: the peer's routing names no host", k.dir)
	}
	for _, h := range hosts {
		if !slices.ContainsFunc(cfg.Routes, func(r config.Route) bool { return deployHostMatches(r.Host, h) }) {
			t.Errorf("deploy/%s: host %q is routed to authgate, but no route of deploy/%s matches it", k.dir, h, k.configName)
		}
	}
}

// checkReplicated checks a kustomization that runs the accounts server as
// several replicas: a PostgreSQL store (a sqlite: store is one file on one
// node) that the kustomization does not run itself, at least two replicas
// spread over nodes, a PodDisruptionBudget that keeps some of them and still
// lets a drain proceed, and egress to DNS and PostgreSQL. (No container
// mounts the config with subPath: checkDeployment.)
func checkReplicated(t *testing.T, k *kustomization, d deployObject, cfg *config.Config) {
	t.Helper()
	where := "deploy/" + d.file + ": Deployment " + d.name()
	if cfg.Accounts == nil {
		t.Errorf("deploy/%s: accounts must be on: the replicas exist to share accounts", k.configName)
	}
	dbPort := 5432
	if !config.IsPostgres(cfg.Store) {
		t.Errorf("deploy/%s: store must be a postgres:// URL: a sqlite: store is one file on one node, which several replicas cannot share", k.configName)
	} else if u, err := url.Parse(cfg.Store); err == nil && u.Port() != "" {
		dbPort, _ = strconv.Atoi(u.Port())
	}

	replicas, ok := deployDig(d.doc, "spec", "replicas").(int)
	if !ok || replicas < 2 {
		t.Errorf("%s: spec.replicas must be 2 or more, not %v", where, deployDig(d.doc, "spec", "replicas"))
	}
	labels, _ := deployDig(d.doc, "spec", "template", "metadata", "labels").(map[string]any)
	pod := deployDig(d.doc, "spec", "template", "spec")

	// PostgreSQL is an existing, operator-managed service, not shipped here.
	for _, o := range k.all {
		kind := deployStr(o.doc, "kind")
		if kind == "StatefulSet" {
			t.Errorf("deploy/%s: StatefulSet %s: the kustomization must not run its own database", o.file, o.name())
		}
		for _, c := range deployList(o.doc, "spec", "template", "spec", "containers") {
			img := deployStr(c, "image")
			if base := path.Base(img); strings.HasPrefix(base, "postgres") {
				t.Errorf("deploy/%s: %s %s runs %s: PostgreSQL is expected to exist (an operator or a managed service), not to be shipped here", o.file, kind, o.name(), img)
			}
		}
	}

	// Spread over nodes.
	spread := false
	for _, c := range deployList(pod, "topologySpreadConstraints") {
		if deployStr(c, "topologyKey") == "kubernetes.io/hostname" && deploySelects(deployDig(c, "labelSelector"), labels) {
			spread = true
		}
	}
	anti := deployDig(pod, "affinity", "podAntiAffinity")
	terms := deployList(anti, "requiredDuringSchedulingIgnoredDuringExecution")
	for _, w := range deployList(anti, "preferredDuringSchedulingIgnoredDuringExecution") {
		terms = append(terms, deployDig(w, "podAffinityTerm"))
	}
	for _, term := range terms {
		if deployStr(term, "topologyKey") == "kubernetes.io/hostname" && deploySelects(deployDig(term, "labelSelector"), labels) {
			spread = true
		}
	}
	if !spread {
		t.Errorf("%s: no topologySpreadConstraints or podAntiAffinity on kubernetes.io/hostname selects its own pods: the replicas may all land on one node", where)
	}

	// A PodDisruptionBudget that selects the pods and allows one disruption.
	var pdbs []deployObject
	for _, p := range k.objects("PodDisruptionBudget") {
		if deploySelects(deployDig(p.doc, "spec", "selector"), labels) {
			pdbs = append(pdbs, p)
		}
	}
	if len(pdbs) == 0 {
		t.Errorf("deploy/%s: no PodDisruptionBudget selects the pods of %s", k.dir, where)
	}
	for _, p := range pdbs {
		pw := "deploy/" + p.file + ": PodDisruptionBudget " + p.name()
		maxU, hasMax := deployDig(p.doc, "spec", "maxUnavailable").(int)
		minA, hasMin := deployDig(p.doc, "spec", "minAvailable").(int)
		switch {
		case hasMax && maxU < 1:
			t.Errorf("%s: maxUnavailable %d blocks every drain", pw, maxU)
		case hasMin && (minA < 1 || minA >= replicas):
			t.Errorf("%s: minAvailable %d must be between 1 and replicas-1 (%d): at %d it protects nothing or blocks every drain", pw, minA, replicas-1, minA)
		case !hasMax && !hasMin:
			t.Errorf("%s: set maxUnavailable or minAvailable as an integer", pw)
		}
	}

	// Egress, where a NetworkPolicy restricts it: DNS and PostgreSQL.
	for _, np := range k.objects("NetworkPolicy") {
		if !deploySelects(deployDig(np.doc, "spec", "podSelector"), labels) ||
			!slices.Contains(deployList(np.doc, "spec", "policyTypes"), any("Egress")) {
			continue
		}
		nw := "deploy/" + np.file + ": NetworkPolicy " + np.name()
		rules := deployList(np.doc, "spec", "egress")
		for _, want := range []struct {
			port  int
			proto string
			what  string
		}{{53, "UDP", "DNS"}, {dbPort, "TCP", "PostgreSQL"}} {
			if !deployEgressAllows(rules, want.port, want.proto) {
				t.Errorf("%s: egress does not allow %s port %d (%s)", nw, want.proto, want.port, want.what)
			}
		}
	}
}

// deploySelects reports whether a label selector (matchLabels, and
// matchExpressions with In, NotIn, Exists, DoesNotExist) selects pods with
// labels. A missing selector selects nothing here.
func deploySelects(sel any, labels map[string]any) bool {
	m, ok := sel.(map[string]any)
	if !ok || len(m) == 0 {
		return false
	}
	ml, _ := m["matchLabels"].(map[string]any)
	for k, v := range ml {
		if labels[k] != v {
			return false
		}
	}
	for _, e := range deployList(m, "matchExpressions") {
		val, has := labels[deployStr(e, "key")]
		in := slices.Contains(deployList(e, "values"), val)
		switch deployStr(e, "operator") {
		case "In":
			if !has || !in {
				return false
			}
		case "NotIn":
			if has && in {
				return false
			}
		case "Exists":
			if !has {
				return false
			}
		case "DoesNotExist":
			if has {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// deployEgressAllows reports whether some egress rule allows port/proto to
// some destination (a rule without ports allows every port).
func deployEgressAllows(rules []any, port int, proto string) bool {
	for _, r := range rules {
		ports := deployList(r, "ports")
		if len(ports) == 0 {
			return true
		}
		for _, p := range ports {
			pp := deployStr(p, "protocol")
			if pp == "" {
				pp = "TCP"
			}
			n, _ := deployDig(p, "port").(int)
			end, _ := deployDig(p, "endPort").(int)
			if pp == proto && (n == port || n <= port && port <= end) {
				return true
			}
		}
	}
	return false
}

// TestDeployKustomizeRenders renders every kustomization under
// deploy/kubernetes with kubectl.
func TestDeployKustomizeRenders(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("kubectl is not on PATH, so deploy/kubernetes cannot be rendered (kubectl kustomize): CI must install kubectl")
		}
		t.Skip("kubectl is not on PATH: skipping kubectl kustomize of deploy/kubernetes (install kubectl to run it)")
	}
	dirs, err := filepath.Glob(filepath.Join(deployRoot, "kubernetes", "*", "kustomization.yaml"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no kustomization.yaml under deploy/kubernetes: %v", err)
	}
	for _, kfile := range dirs {
		dir := filepath.Dir(kfile)
		rel := deployRel(dir)
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var stdout, stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, kubectl, "kustomize", dir)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("kubectl kustomize deploy/%s: %v\n%s", rel, err, stderr.String())
			}
			k := loadKustomization(t, rel)
			docs, err := deployDecode(stdout.Bytes())
			if err != nil {
				t.Fatalf("kubectl kustomize deploy/%s: output does not parse: %v", rel, err)
			}
			if len(docs) != len(k.all) {
				t.Errorf("kubectl kustomize deploy/%s rendered %d objects, the resources hold %d", rel, len(docs), len(k.all))
			}
			for _, d := range docs {
				obj := deployStr(d, "kind") + "/" + deployStr(d, "metadata", "name")
				if ns := deployStr(d, "metadata", "namespace"); ns != k.namespace {
					t.Errorf("kubectl kustomize deploy/%s: %s is in namespace %q, want %q", rel, obj, ns, k.namespace)
				}
				if deployStr(d, "kind") == "Secret" {
					t.Errorf("kubectl kustomize deploy/%s: renders %s: keys are created out of band, never kept in deploy/", rel, obj)
				}
			}
		})
	}
}

// TestDeployEnvoy: Envoy asks authgate's ext-authz endpoint where
// deploy/envoy/authgate.yaml listens, and handles identity headers safely.
func TestDeployEnvoy(t *testing.T) {
	const envoyFile, agFile = "envoy/envoy.yaml", "envoy/authgate.yaml"
	cfg := deployParseConfigFile(t, agFile)
	docs := deployDocs(t, filepath.Join(deployRoot, envoyFile))
	if len(docs) != 1 {
		t.Fatalf("deploy/%s: want one YAML document, found %d", envoyFile, len(docs))
	}
	env := docs[0]

	clusters := map[string]string{} // name -> host:port
	for _, c := range deployList(env, "static_resources", "clusters") {
		sa := deployDig(c, "load_assignment", "endpoints", 0, "lb_endpoints", 0, "endpoint", "address", "socket_address")
		port, _ := deployDig(sa, "port_value").(int)
		clusters[deployStr(c, "name")] = net.JoinHostPort(deployStr(sa, "address"), strconv.Itoa(port))
	}

	var hcm any
	for _, l := range deployList(env, "static_resources", "listeners") {
		for _, fc := range deployList(l, "filter_chains") {
			for _, f := range deployList(fc, "filters") {
				if deployStr(f, "name") == "envoy.filters.network.http_connection_manager" {
					hcm = deployDig(f, "typed_config")
				}
			}
		}
	}
	if hcm == nil {
		t.Fatalf("deploy/%s: no http_connection_manager", envoyFile)
	}
	var order []string
	filters := map[string]any{}
	for _, f := range deployList(hcm, "http_filters") {
		name := deployStr(f, "name")
		order = append(order, name)
		filters[name] = deployDig(f, "typed_config")
	}
	idx := func(name string) int { return slices.Index(order, name) }
	ea, mut, router := idx("envoy.filters.http.ext_authz"), idx("envoy.filters.http.header_mutation"), idx("envoy.filters.http.router")
	if ea < 0 || router != len(order)-1 || ea > router {
		t.Fatalf("deploy/%s: http_filters %v: want envoy.filters.http.ext_authz, then envoy.filters.http.router last", envoyFile, order)
	}
	if mut < 0 || mut > ea {
		t.Errorf("deploy/%s: http_filters %v: envoy.filters.http.header_mutation must remove client-sent identity headers before ext_authz", envoyFile, order)
	}

	authz := filters["envoy.filters.http.ext_authz"]
	hs := deployDig(authz, "http_service")
	if got := deployStr(hs, "path_prefix"); got != "/auth/ext-authz" {
		t.Errorf("deploy/%s: ext_authz http_service.path_prefix is %q, want /auth/ext-authz", envoyFile, got)
	}
	if deployDig(authz, "failure_mode_allow") == true {
		t.Errorf("deploy/%s: ext_authz failure_mode_allow must be false: an authgate outage must not let requests through", envoyFile)
	}
	if deployStr(hs, "server_uri", "timeout") == "" {
		t.Errorf("deploy/%s: ext_authz http_service.server_uri.timeout is not set", envoyFile)
	}
	cluster := deployStr(hs, "server_uri", "cluster")
	if got, ok := clusters[cluster]; !ok {
		t.Errorf("deploy/%s: ext_authz server_uri.cluster %q is not a cluster", envoyFile, cluster)
	} else if got != cfg.Listen {
		t.Errorf("deploy/%s: ext_authz cluster %q points at %s, but deploy/%s listens on %s", envoyFile, cluster, got, agFile, cfg.Listen)
	}
	if host, _, err := net.SplitHostPort(clusters[cluster]); err == nil {
		if a, err := netip.ParseAddr(host); err == nil && a.IsLoopback() && !deployTrusts(cfg, a) {
			t.Errorf("deploy/%s: trusted_proxies %v does not include %s, where Envoy connects from", agFile, cfg.TrustedProxies, a)
		}
	}

	// Request headers sent to authgate.
	allowed := deployPatterns(deployDig(authz, "allowed_headers"))
	allowed = append(allowed, deployPatterns(deployDig(hs, "authorization_request", "allowed_headers"))...)
	for _, h := range []string{"authorization", "cookie"} {
		if !deployPatternMatch(allowed, h) {
			t.Errorf("deploy/%s: ext_authz allowed_headers must include %s", envoyFile, h)
		}
	}
	// Identity headers: removed from the client's request, copied from
	// authgate's answer.
	upstream := deployPatterns(deployDig(hs, "authorization_response", "allowed_upstream_headers"))
	var removed []string
	for _, m := range deployList(filters["envoy.filters.http.header_mutation"], "mutations", "request_mutations") {
		removed = append(removed, strings.ToLower(deployStr(m, "remove")))
	}
	for _, h := range deployIdentityHeaders(cfg) {
		lh := strings.ToLower(h)
		if !deployPatternMatch(upstream, lh) {
			t.Errorf("deploy/%s: identity header %s of deploy/%s is not in ext_authz allowed_upstream_headers", envoyFile, h, agFile)
		}
		if !slices.Contains(removed, lh) {
			t.Errorf("deploy/%s: identity header %s of deploy/%s is not removed from client requests by header_mutation", envoyFile, h, agFile)
		}
	}

	// The app cluster (the catch-all route) is where authgate's routes point.
	var app string
	for _, vh := range deployList(hcm, "route_config", "virtual_hosts") {
		for _, r := range deployList(vh, "routes") {
			if deployStr(r, "match", "prefix") == "/" {
				app = deployStr(r, "route", "cluster")
			}
		}
	}
	if app == "" {
		t.Fatalf("deploy/%s: no catch-all route (match prefix /)", envoyFile)
	}
	for _, r := range cfg.Routes {
		if u, err := url.Parse(r.Upstream); err != nil || u.Host != clusters[app] {
			t.Errorf("deploy/%s: route %s: upstream %q is not Envoy's app cluster %q (%s)", agFile, r.Name, r.Upstream, app, clusters[app])
		}
	}
}

// deployComposeSetups are the Compose setups: a file, or a file with an
// override (docker compose -f compose.yaml -f override.yaml), and the
// authgate config their authgate services mount.
var deployComposeSetups = []struct {
	files  []string // relative to deploy/, base first
	agFile string
	// replicated: several authgate services on one PostgreSQL service
	// (checkComposeReplicated).
	replicated bool
}{
	{files: []string{"compose/compose.yaml"}, agFile: "compose/authgate.yaml"},
	{
		files:      []string{"compose/compose.yaml", "compose/compose.postgres.yaml"},
		agFile:     "compose/authgate.postgres.yaml",
		replicated: true,
	},
}

// deployComposeIsAuthgate reports whether a Compose service is an authgate
// replica: "authgate", or "authgate-" and a suffix.
func deployComposeIsAuthgate(name string) bool {
	return name == "authgate" || strings.HasPrefix(name, "authgate-")
}

// TestDeployCompose: authgate is the edge of each Compose setup, with its
// config and key read-only, its store on a volume (or PostgreSQL), and
// routes to the apps there.
func TestDeployCompose(t *testing.T) {
	for _, tc := range deployComposeSetups {
		name := strings.Join(tc.files, "+")
		t.Run(name, func(t *testing.T) {
			cfg := deployParseConfigFile(t, tc.agFile)
			var merged any
			for _, f := range tc.files {
				docs := deployDocs(t, filepath.Join(deployRoot, f))
				if len(docs) != 1 {
					t.Fatalf("deploy/%s: want one YAML document, found %d", f, len(docs))
				}
				merged = deployComposeMerge(merged, docs[0], "")
			}
			composeName := "deploy/" + strings.Join(tc.files, " + ")
			services, _ := deployDig(merged, "services").(map[string]any)
			var authgates []string
			for n := range services {
				if deployComposeIsAuthgate(n) {
					authgates = append(authgates, n)
				}
			}
			slices.Sort(authgates)
			if !slices.Contains(authgates, "authgate") {
				t.Fatalf("%s: no authgate service", composeName)
			}

			// Apps are built from Dockerfiles that exist.
			for n, s := range services {
				build := deployDig(s, "build")
				if build == nil {
					continue
				}
				ctxDir := filepath.Join(deployRoot, "compose", deployStr(build, "context"))
				df := deployStr(build, "dockerfile")
				if df == "" {
					df = "Dockerfile"
				}
				if _, err := os.Stat(filepath.Join(ctxDir, df)); err != nil {
					t.Errorf("%s: service %s: build %s: %v", composeName, n, df, err)
				}
			}

			// No two services publish the same host port.
			published := map[string]string{}
			for n, s := range services {
				for _, p := range deployList(s, "ports") {
					ps, _ := p.(string)
					parts := strings.Split(ps, ":")
					if len(parts) < 2 {
						continue
					}
					host := strings.Join(parts[:len(parts)-1], ":")
					if prev, ok := published[host]; ok {
						t.Errorf("%s: services %s and %s both publish %s", composeName, prev, n, host)
					}
					published[host] = n
				}
			}

			for _, n := range authgates {
				checkComposeAuthgate(t, composeName, n, services[n], cfg, tc.agFile)
			}

			// Routes go to services of this setup that only authgate can reach.
			for _, r := range cfg.Routes {
				u, err := url.Parse(r.Upstream)
				if err != nil {
					t.Errorf("deploy/%s: route %s: upstream %q: %v", tc.agFile, r.Name, r.Upstream, err)
					continue
				}
				s, ok := services[u.Hostname()]
				if !ok || deployComposeIsAuthgate(u.Hostname()) {
					t.Errorf("deploy/%s: route %s: upstream host %q is not an app service of %s", tc.agFile, r.Name, u.Hostname(), composeName)
					continue
				}
				if deployDig(s, "ports") != nil {
					t.Errorf("%s: service %s publishes ports: only authgate may reach it", composeName, u.Hostname())
				}
				if cmd := deployJoin(deployList(s, "command")); !strings.Contains(cmd, ":"+u.Port()) {
					t.Errorf("deploy/%s: route %s: upstream %s, but service %s runs %q", tc.agFile, r.Name, r.Upstream, u.Hostname(), cmd)
				}
			}

			if tc.replicated {
				checkComposeReplicated(t, composeName, merged, authgates, cfg, tc.agFile)
			}
		})
	}
}

// checkComposeAuthgate checks one authgate service of a Compose setup: built
// from the repository, config and key read-only, store writable, read-only
// root, traffic published and admin on the host's loopback only.
func checkComposeAuthgate(t *testing.T, composeName, name string, ag any, cfg *config.Config, agFile string) {
	t.Helper()
	where := composeName + ": service " + name
	if deployDig(ag, "build") == nil {
		t.Errorf("%s: must be built from the repository root (build: ../..)", where)
	} else if got := filepath.Clean(filepath.Join(deployRoot, "compose", deployStr(ag, "build", "context"))); got != filepath.Clean(filepath.Join(deployRoot, "..")) {
		t.Errorf("%s: must be built from the repository root (build: ../..)", where)
	}

	// Mounts: the config and the key read-only, the store writable.
	type mount struct {
		src, dst string
		ro       bool
	}
	var mounts []mount
	for _, v := range deployList(ag, "volumes") {
		s, _ := v.(string)
		parts := strings.Split(s, ":")
		if len(parts) < 2 {
			t.Errorf("%s: volume %q: want SOURCE:TARGET[:ro]", where, s)
			continue
		}
		mounts = append(mounts, mount{parts[0], parts[1], len(parts) > 2 && strings.Contains(parts[2], "ro")})
	}
	under := func(p string) *mount {
		for i, m := range mounts {
			if p == m.dst || strings.HasPrefix(p, strings.TrimSuffix(m.dst, "/")+"/") {
				return &mounts[i]
			}
		}
		return nil
	}
	if m := under(deployConfigPath); m == nil || m.dst != deployConfigPath || !m.ro || path.Base(m.src) != path.Base(agFile) {
		t.Errorf("%s: ./%s must be mounted read-only at %s", where, path.Base(agFile), deployConfigPath)
	}
	if cfg.Tokens != nil && cfg.Tokens.SigningKey != "" {
		if m := under(cfg.Tokens.SigningKey); !path.IsAbs(cfg.Tokens.SigningKey) || m == nil || !m.ro {
			t.Errorf("%s: tokens.signing_key %s of deploy/%s must be on a read-only mount", where, cfg.Tokens.SigningKey, agFile)
		}
	}
	if file, ok := strings.CutPrefix(cfg.Store, "sqlite:"); ok {
		if m := under(file); !path.IsAbs(file) || m == nil || m.ro || m.dst == file {
			t.Errorf("%s: the directory of store %s of deploy/%s must be a writable volume", where, file, agFile)
		}
	}
	if deployDig(ag, "read_only") != true {
		t.Errorf("%s: read_only must be true", where)
	}
	if deployStr(ag, "user") != "65532:65532" {
		t.Errorf("%s: user must be \"65532:65532\", the image's non-root user", where)
	}
	if !slices.Contains(deployList(ag, "cap_drop"), any("ALL")) {
		t.Errorf("%s: cap_drop must contain ALL", where)
	}

	// Ports: traffic published, admin only on the host's loopback.
	_, listenPort := deployAddr(t, agFile, "listen", cfg.Listen)
	_, adminPort := deployAddr(t, agFile, "admin_listen", cfg.AdminListen)
	var traffic bool
	for _, p := range deployList(ag, "ports") {
		s, _ := p.(string)
		parts := strings.Split(s, ":")
		target, _ := strconv.Atoi(parts[len(parts)-1])
		switch target {
		case listenPort:
			traffic = true
		case adminPort:
			if len(parts) != 3 || parts[0] != "127.0.0.1" {
				t.Errorf("%s: the admin port must be published on 127.0.0.1 only, not %q", where, s)
			}
		default:
			t.Errorf("%s: publishes %q, which authgate does not listen on", where, s)
		}
	}
	if !traffic {
		t.Errorf("%s: listen port %d of deploy/%s is not published", where, listenPort, agFile)
	}
}

// checkComposeReplicated checks a Compose setup with several authgate
// replicas: they share a PostgreSQL service of the setup, start only once
// it is healthy, and read its password from the compose secret it was
// initialised with.
func checkComposeReplicated(t *testing.T, composeName string, merged any, authgates []string, cfg *config.Config, agFile string) {
	t.Helper()
	services, _ := deployDig(merged, "services").(map[string]any)
	if len(authgates) < 2 {
		t.Errorf("%s: want at least two authgate replicas, found %v", composeName, authgates)
	}
	if cfg.Accounts == nil {
		t.Errorf("deploy/%s: accounts must be on: the replicas exist to share accounts", agFile)
	}
	if !config.IsPostgres(cfg.Store) {
		t.Fatalf("deploy/%s: store must be a postgres:// URL: a sqlite: store is one file that one replica opens", agFile)
	}
	u, err := url.Parse(cfg.Store)
	if err != nil {
		t.Fatalf("deploy/%s: store is not a URL", agFile)
	}
	dbName := u.Hostname()
	db := services[dbName]
	pw := "postgres service " + dbName
	where := composeName + ": " + pw
	if db == nil {
		t.Fatalf("deploy/%s: store host %q is not a service of %s", agFile, dbName, composeName)
	}
	if img := deployStr(db, "image"); !strings.HasPrefix(img, "postgres:") {
		t.Errorf("%s: image %q, want postgres:<version>", where, img)
	}
	if deployDig(db, "ports") != nil {
		t.Errorf("%s: publishes ports: only the authgate replicas need the database", where)
	}
	if test := deployJoin(deployList(db, "healthcheck", "test")); !strings.Contains(test, "pg_isready") || deployDig(db, "healthcheck", "disable") == true {
		t.Errorf("%s: healthcheck.test %q must run pg_isready", where, test)
	}
	if p := u.Port(); p != "" && p != "5432" {
		t.Errorf("deploy/%s: store port %s, but the postgres image listens on 5432", agFile, p)
	}

	env := deployComposeEnv(deployDig(db, "environment"))
	user := env["POSTGRES_USER"]
	if user == "" {
		user = "postgres"
	}
	name := env["POSTGRES_DB"]
	if name == "" {
		name = user
	}
	if u.User.Username() != user || strings.Trim(u.Path, "/") != name {
		t.Errorf("deploy/%s: store names user %q and database %q, but %s creates user %q and database %q",
			agFile, u.User.Username(), strings.Trim(u.Path, "/"), pw, user, name)
	}
	if _, ok := env["POSTGRES_PASSWORD"]; ok {
		t.Errorf("%s: POSTGRES_PASSWORD is written in the file: use POSTGRES_PASSWORD_FILE and a compose secret", where)
	}
	topSecrets, _ := deployDig(merged, "secrets").(map[string]any)
	dbSecret := deployComposeSecretAt(deployDig(db, "secrets"), env["POSTGRES_PASSWORD_FILE"])
	if dbSecret == "" {
		t.Errorf("%s: POSTGRES_PASSWORD_FILE %q is not where one of its secrets is mounted", where, env["POSTGRES_PASSWORD_FILE"])
	} else if s := topSecrets[dbSecret]; deployStr(s, "file") == "" && deployStr(s, "environment") == "" {
		t.Errorf("%s: secret %s is not defined under the top-level secrets (file: or environment:)", composeName, dbSecret)
	}

	var data bool
	for _, v := range deployList(db, "volumes") {
		s, _ := v.(string)
		src, dst, _ := strings.Cut(s, ":")
		dst, _, _ = strings.Cut(dst, ":")
		if dst == "/var/lib/postgresql/data" && deployDig(merged, "volumes", src) != nil {
			data = true
		}
	}
	if !data {
		t.Errorf("%s: /var/lib/postgresql/data must be a named volume of the top-level volumes", where)
	}

	pwFile := ""
	if cfg.Postgres != nil {
		pwFile = cfg.Postgres.PasswordFile
	}
	if !path.IsAbs(pwFile) {
		t.Errorf("deploy/%s: postgres.password_file %q must be the absolute path of a compose secret (/run/secrets/NAME)", agFile, pwFile)
	}
	dbNets := deployComposeNetworks(db)
	for _, n := range authgates {
		ag := services[n]
		aw := composeName + ": service " + n
		if got := deployStr(ag, "depends_on", dbName, "condition"); got != "service_healthy" {
			t.Errorf("%s: depends_on.%s.condition is %q, want service_healthy: authgate must start once PostgreSQL accepts connections", aw, dbName, got)
		}
		if !slices.ContainsFunc(deployComposeNetworks(ag), func(s string) bool { return slices.Contains(dbNets, s) }) {
			t.Errorf("%s: shares no network with %s", aw, pw)
		}
		if got := deployComposeSecretAt(deployDig(ag, "secrets"), pwFile); got == "" {
			t.Errorf("%s: postgres.password_file %s of deploy/%s is not where one of its secrets is mounted", aw, pwFile, agFile)
		} else if got != dbSecret {
			t.Errorf("%s: postgres.password_file is secret %s, but %s was initialised from secret %s", aw, got, pw, dbSecret)
		}
	}
}

// deployComposeEnv reads a service's environment, a mapping or a list of
// KEY=VALUE.
func deployComposeEnv(v any) map[string]string {
	out := map[string]string{}
	switch e := v.(type) {
	case map[string]any:
		for k, val := range e {
			s, _ := val.(string)
			out[k] = s
		}
	case []any:
		for _, kv := range e {
			s, _ := kv.(string)
			k, val, _ := strings.Cut(s, "=")
			out[k] = val
		}
	}
	return out
}

// deployComposeSecretAt returns the secret (its source name) that a
// service's secrets mount at file, "" if none.
func deployComposeSecretAt(secrets any, file string) string {
	l, _ := secrets.([]any)
	for _, s := range l {
		src, target := "", ""
		switch s := s.(type) {
		case string:
			src = s
		case map[string]any:
			src = deployStr(s, "source")
			target = deployStr(s, "target")
		}
		if target == "" {
			target = src
		}
		if !path.IsAbs(target) {
			target = "/run/secrets/" + target
		}
		if file != "" && target == file {
			return src
		}
	}
	return ""
}

// deployComposeNetworks lists the networks a service joins ("default" when
// it names none).
func deployComposeNetworks(svc any) []string {
	var out []string
	switch n := deployDig(svc, "networks").(type) {
	case []any:
		for _, v := range n {
			s, _ := v.(string)
			out = append(out, s)
		}
	case map[string]any:
		for k := range n {
			out = append(out, k)
		}
	}
	if len(out) == 0 && deployDig(svc, "network_mode") == nil {
		out = []string{"default"}
	}
	return out
}

// deployComposeMerge applies a Compose override to base the way
// `docker compose -f base -f override` does, for the keys these tests
// read: mappings merge key by key; a service's volumes merge by target
// path; command, entrypoint and healthcheck.test are replaced; other
// sequences (ports, secrets, networks, ...) are joined without duplicates.
func deployComposeMerge(base, over any, key string) any {
	switch o := over.(type) {
	case map[string]any:
		b, ok := base.(map[string]any)
		if !ok {
			return o
		}
		out := map[string]any{}
		for k, v := range b {
			out[k] = v
		}
		for k, v := range o {
			out[k] = deployComposeMerge(b[k], v, k)
		}
		return out
	case []any:
		b, ok := base.([]any)
		if !ok || key == "command" || key == "entrypoint" || key == "test" {
			return o
		}
		id := func(v any) string { return fmt.Sprint(v) }
		if key == "volumes" {
			id = func(v any) string {
				if s, ok := v.(string); ok {
					parts := strings.Split(s, ":")
					if len(parts) > 1 {
						return parts[1]
					}
					return parts[0]
				}
				return deployStr(v, "target")
			}
		}
		var out []any
		for _, v := range b {
			if !slices.ContainsFunc(o, func(w any) bool { return id(w) == id(v) }) {
				out = append(out, v)
			}
		}
		return append(out, o...)
	}
	return over
}

// kustomization is a directory of Kubernetes manifests.
type kustomization struct {
	dir           string // relative to deploy/
	namespace     string
	all           []deployObject // the resources kustomization.yaml lists
	configName    string         // "file#ConfigMap/name" of authgate's config
	configMapName string
}

// deployObject is one Kubernetes object and the file it is in (relative to
// deploy/).
type deployObject struct {
	file string
	doc  map[string]any
}

func (o deployObject) name() string { return deployStr(o.doc, "metadata", "name") }

func (k *kustomization) objects(kind string) []deployObject {
	var out []deployObject
	for _, o := range k.all {
		if deployStr(o.doc, "kind") == kind {
			out = append(out, o)
		}
	}
	return out
}

// authgateConfig parses the config.yaml of the kustomization's ConfigMap.
func (k *kustomization) authgateConfig(t *testing.T) *config.Config {
	t.Helper()
	var found []deployObject
	for _, cm := range k.objects("ConfigMap") {
		if _, ok := deployDig(cm.doc, "data", "config.yaml").(string); ok {
			found = append(found, cm)
		}
	}
	if len(found) != 1 {
		t.Fatalf("deploy/%s: want one ConfigMap with data.config.yaml, found %d", k.dir, len(found))
	}
	cm := found[0]
	k.configMapName = cm.name()
	k.configName = cm.file + "#ConfigMap/" + cm.name()
	data, _ := deployDig(cm.doc, "data", "config.yaml").(string)
	cfg, err := config.Parse(k.configName, []byte(data), deployLookupEnv)
	if err != nil {
		t.Fatalf("deploy/%s: invalid authgate config:\n%v", k.configName, err)
	}
	return cfg
}

// loadKustomization reads kustomization.yaml in deploy/dir and every
// manifest of the directory. Every YAML file must parse; the resources
// must be exactly the manifests that are not *.example.yaml.
func loadKustomization(t *testing.T, dir string) *kustomization {
	t.Helper()
	abs := filepath.Join(deployRoot, dir)
	kdocs := deployDocs(t, filepath.Join(abs, "kustomization.yaml"))
	if len(kdocs) != 1 || deployStr(kdocs[0], "kind") != "Kustomization" {
		t.Fatalf("deploy/%s/kustomization.yaml: want one document of kind Kustomization", dir)
	}
	k := &kustomization{dir: dir, namespace: deployStr(kdocs[0], "namespace")}
	if k.namespace == "" {
		t.Errorf("deploy/%s/kustomization.yaml: set namespace, which the forward-auth addresses name", dir)
	}
	var resources []string
	for _, r := range deployList(kdocs[0], "resources") {
		s, _ := r.(string)
		resources = append(resources, s)
	}

	files, err := filepath.Glob(filepath.Join(abs, "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if name == "kustomization.yaml" {
			continue
		}
		rel := dir + "/" + name
		docs := deployDocs(t, f)
		for i, d := range docs {
			if deployStr(d, "apiVersion") == "" || deployStr(d, "kind") == "" || deployStr(d, "metadata", "name") == "" {
				t.Errorf("deploy/%s: document %d lacks apiVersion, kind or metadata.name", rel, i+1)
			}
		}
		listed := slices.Contains(resources, name)
		example := strings.HasSuffix(name, ".example.yaml")
		switch {
		case example && listed:
			t.Errorf("deploy/%s/kustomization.yaml: lists %s, an example that must not be applied", dir, name)
		case !example && !listed:
			t.Errorf("deploy/%s/kustomization.yaml: does not list %s", dir, name)
		case listed:
			for _, d := range docs {
				k.all = append(k.all, deployObject{file: rel, doc: d})
			}
		}
	}
	for _, r := range resources {
		if _, err := os.Stat(filepath.Join(abs, r)); err != nil {
			t.Errorf("deploy/%s/kustomization.yaml: resource %s: %v", dir, r, err)
		}
	}
	return k
}

// deployParseConfigFile parses deploy/rel as an authgate config.
func deployParseConfigFile(t *testing.T, rel string) *config.Config {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(deployRoot, rel))
	if err != nil {
		t.Fatalf("deploy/%s: %v", rel, err)
	}
	cfg, err := config.Parse(rel, data, deployLookupEnv)
	if err != nil {
		t.Fatalf("deploy/%s: invalid authgate config:\n%v", rel, err)
	}
	return cfg
}

// deployDocs decodes every YAML document of a file.
func deployDocs(t *testing.T, file string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("deploy/%s: %v", deployRel(file), err)
	}
	docs, err := deployDecode(data)
	if err != nil {
		t.Fatalf("deploy/%s: %v", deployRel(file), err)
	}
	return docs
}

// deployDecode decodes a multi-document YAML stream; empty documents are
// skipped.
func deployDecode(data []byte) ([]map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for n := 1; ; n++ {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, errors.New("document " + strconv.Itoa(n) + ": " + err.Error())
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// deployDig walks maps (string keys) and lists (int indexes); nil when a
// step is missing.
func deployDig(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k < 0 || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func deployStr(v any, keys ...any) string {
	s, _ := deployDig(v, keys...).(string)
	return s
}

func deployList(v any, keys ...any) []any {
	l, _ := deployDig(v, keys...).([]any)
	return l
}

func deployJoin(l []any) string {
	var b strings.Builder
	for i, v := range l {
		if i > 0 {
			b.WriteByte(' ')
		}
		s, _ := v.(string)
		b.WriteString(s)
	}
	return b.String()
}

// deployMountFor returns the volumeMount whose mountPath is p or a directory
// holding p.
func deployMountFor(mounts []any, p string) map[string]any {
	for _, m := range mounts {
		mp := deployStr(m, "mountPath")
		if mp != "" && (p == mp || strings.HasPrefix(p, strings.TrimSuffix(mp, "/")+"/")) {
			mm, _ := m.(map[string]any)
			return mm
		}
	}
	return nil
}

// deployAddr splits a listen address of a config.
func deployAddr(t *testing.T, file, key, addr string) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil {
		t.Fatalf("deploy/%s: %s %q is not host:port", file, key, addr)
	}
	return host, n
}

// deployIdentityHeaders are all the identity headers authgate may answer
// with for cfg: X-Auth-Token (a signed identity for routes with
// identity_token, empty otherwise) and the configured ones.
func deployIdentityHeaders(cfg *config.Config) []string {
	hs := []string{"X-Auth-Token"}
	for h := range cfg.IdentityHeaders {
		hs = append(hs, h)
	}
	for _, is := range cfg.Issuers {
		for h := range is.ClaimHeaders {
			hs = append(hs, h)
		}
	}
	slices.Sort(hs)
	return hs
}

// deployHostMatches reports whether a route host pattern ("" for any,
// "*.example.com") matches host.
func deployHostMatches(pattern, host string) bool {
	host = strings.ToLower(host)
	pattern = strings.ToLower(pattern)
	if pattern == "" || pattern == host {
		return true
	}
	suffix, ok := strings.CutPrefix(pattern, "*")
	return ok && strings.HasSuffix(host, suffix) && len(host) > len(suffix)
}

func deployTrusts(cfg *config.Config, a netip.Addr) bool {
	for _, p := range cfg.TrustedProxies {
		if pre, err := netip.ParsePrefix(p); err == nil && pre.Contains(a) {
			return true
		}
		if b, err := netip.ParseAddr(p); err == nil && b == a {
			return true
		}
	}
	return false
}

// deployPatterns reads an Envoy ListStringMatcher as "exact:x" / "prefix:x"
// strings.
func deployPatterns(v any) []string {
	var out []string
	for _, p := range deployList(v, "patterns") {
		for _, kind := range []string{"exact", "prefix"} {
			if s := deployStr(p, kind); s != "" {
				out = append(out, kind+":"+strings.ToLower(s))
			}
		}
	}
	return out
}

func deployPatternMatch(patterns []string, h string) bool {
	for _, p := range patterns {
		kind, v, _ := strings.Cut(p, ":")
		if kind == "exact" && v == h || kind == "prefix" && strings.HasPrefix(h, v) {
			return true
		}
	}
	return false
}

// deployRel returns p relative to deploy/, with forward slashes.
func deployRel(p string) string {
	rel, err := filepath.Rel(deployRoot, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(rel)
}

func deployIsYAML(p string) bool {
	ext := filepath.Ext(p)
	return ext == ".yaml" || ext == ".yml"
}

// TestDeploySystemd: the unit checks the config before starting, reloads it
// with SIGHUP (systemctl reload), and may bind ports below 1024 (an edge
// gateway on :443) as its unprivileged user with no other capability.
func TestDeploySystemd(t *testing.T) {
	const file = "systemd/authgate.service"
	data, err := os.ReadFile(filepath.Join(deployRoot, file))
	if err != nil {
		t.Fatal(err)
	}
	unit := map[string][]string{}
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "[") {
			continue
		}
		k, v, _ := strings.Cut(l, "=")
		unit[k] = append(unit[k], v)
	}
	one := func(k string) string {
		if len(unit[k]) != 1 {
			t.Errorf("deploy/%s: want one %s=, found %q", file, k, unit[k])
			return ""
		}
		return unit[k][0]
	}
	if got := one("ExecReload"); !regexp.MustCompile(`^/bin/kill -(HUP|s HUP|SIGHUP) \$MAINPID$`).MatchString(got) {
		t.Errorf("deploy/%s: ExecReload=%s; want /bin/kill -HUP $MAINPID (authgate reloads its config on SIGHUP)", file, got)
	}
	if got := one("ExecStart"); !strings.Contains(got, "serve -config "+deployConfigPath) {
		t.Errorf("deploy/%s: ExecStart=%s does not serve %s", file, got, deployConfigPath)
	}
	if got := one("ExecStartPre"); !strings.Contains(got, "check -config "+deployConfigPath) {
		t.Errorf("deploy/%s: ExecStartPre=%s does not check %s", file, got, deployConfigPath)
	}
	for _, k := range []string{"AmbientCapabilities", "CapabilityBoundingSet"} {
		if got := one(k); got != "CAP_NET_BIND_SERVICE" {
			t.Errorf("deploy/%s: %s=%s; want CAP_NET_BIND_SERVICE and nothing else", file, k, got)
		}
	}
	if got := one("User"); got == "" || got == "root" {
		t.Errorf("deploy/%s: User=%s; want an unprivileged user", file, got)
	}
	if got := one("NoNewPrivileges"); got != "yes" {
		t.Errorf("deploy/%s: NoNewPrivileges=%s; want yes", file, got)
	}
}
