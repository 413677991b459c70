package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"gopkg.in/yaml.v3"
)

const (
	dashboardPath = "../../deploy/grafana/authgate.json"
	alertsPath    = "../../deploy/prometheus/alerts.yaml"
)

var metricRef = regexp.MustCompile(`authgate_[a-z_]+`)

// registeredFamilies exercises every method once so each vector has a
// series, then gathers the registry: name -> type.
func registeredFamilies(t *testing.T) map[string]dto.MetricType {
	t.Helper()
	m := New("v", "c")
	m.Request("r", "GET", 200, time.Millisecond)
	m.Decision("r", "deny", "expired")
	m.Upstream("r", time.Millisecond, "timeout")
	m.Account("login", "success")
	m.RefreshReuse()
	m.LoginThrottled("ip")
	m.JWKSRefresh("i", "success", time.Now())
	m.ConfigReload("success", "h")
	m.TokenCache("hit")
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]dto.MetricType{}
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "authgate_") {
			out[f.GetName()] = f.GetType()
		}
	}
	return out
}

// resolve maps a referenced series name to its family: histogram series
// may carry _bucket, _sum or _count; counters and gauges may not.
func resolve(ref string, fams map[string]dto.MetricType) (string, bool) {
	if _, ok := fams[ref]; ok {
		return ref, true
	}
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(ref, suf)
		if ok && fams[base] == dto.MetricType_HISTOGRAM {
			return base, true
		}
	}
	return "", false
}

// strs collects every string value in a decoded JSON/YAML document.
func strs(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		*out = append(*out, x)
	case []any:
		for _, e := range x {
			strs(e, out)
		}
	case map[string]any:
		for _, e := range x {
			strs(e, out)
		}
	}
}

type alertFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

type dashboard struct {
	SchemaVersion int `json:"schemaVersion"`
	Inputs        []struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		PluginID string `json:"pluginId"`
	} `json:"__inputs"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos *struct{ H, W, X, Y int } `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

func TestDeployFilesReferenceRegisteredMetrics(t *testing.T) {
	fams := registeredFamilies(t)
	if len(fams) != 15 {
		t.Errorf("registered %d authgate families, want 15: %v", len(fams), fams)
	}

	loadJSON := func(path string) any {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return v
	}
	loadYAML := func(path string) any {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := yaml.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return v
	}

	tests := []struct {
		path      string
		doc       any
		mustCover bool // every registered family must appear
	}{
		{dashboardPath, loadJSON(dashboardPath), true},
		{alertsPath, loadYAML(alertsPath), false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			var all []string
			strs(tc.doc, &all)
			used := map[string]bool{}
			for _, s := range all {
				for _, ref := range metricRef.FindAllString(s, -1) {
					base, ok := resolve(ref, fams)
					if !ok {
						t.Errorf("%s references unknown metric %q in %q", tc.path, ref, s)
						continue
					}
					used[base] = true
				}
			}
			if len(used) == 0 {
				t.Fatalf("%s references no authgate metrics", tc.path)
			}
			if tc.mustCover {
				var missing []string
				for name := range fams {
					if !used[name] {
						missing = append(missing, name)
					}
				}
				sort.Strings(missing)
				if len(missing) > 0 {
					t.Errorf("%s does not chart %v", tc.path, missing)
				}
			}
		})
	}
}

func TestDashboardShape(t *testing.T) {
	b, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d, want >= 36", d.SchemaVersion)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].PluginID != "prometheus" {
		t.Errorf("__inputs = %+v, want one DS_PROMETHEUS prometheus input", d.Inputs)
	}
	ids := map[int]bool{}
	var walk func([]panel)
	exprs := 0
	walk = func(ps []panel) {
		for _, p := range ps {
			if ids[p.ID] {
				t.Errorf("duplicate panel id %d", p.ID)
			}
			ids[p.ID] = true
			if p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 {
				t.Errorf("panel %q has no gridPos", p.Title)
			}
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != "${DS_PROMETHEUS}" {
				t.Errorf("panel %q datasource %+v, want ${DS_PROMETHEUS}", p.Title, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no targets", p.Title)
			}
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" || tg.RefID == "" {
					t.Errorf("panel %q has an empty target", p.Title)
				}
				if strings.Count(tg.Expr, "(") != strings.Count(tg.Expr, ")") ||
					strings.Count(tg.Expr, "{") != strings.Count(tg.Expr, "}") {
					t.Errorf("panel %q: unbalanced expr %q", p.Title, tg.Expr)
				}
				exprs++
			}
		}
	}
	walk(d.Panels)
	if !strings.Contains(string(b), "histogram_quantile(0.99, sum by (route, le) (rate(authgate_http_request_duration_seconds_bucket") {
		t.Error("dashboard lacks the p99 latency-by-route query")
	}
	if exprs < 10 {
		t.Errorf("only %d queries", exprs)
	}
}

func TestAlertRules(t *testing.T) {
	b, err := os.ReadFile(alertsPath)
	if err != nil {
		t.Fatal(err)
	}
	var f alertFile
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", alertsPath, err)
	}
	rules := map[string]string{}
	fors := map[string]string{}
	for _, g := range f.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q is empty or unnamed", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" || strings.TrimSpace(r.Expr) == "" {
				t.Errorf("rule %+v lacks alert name or expr", r)
			}
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("alert %s lacks severity or summary", r.Alert)
			}
			if _, dup := rules[r.Alert]; dup {
				t.Errorf("duplicate alert %s", r.Alert)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("alert %s: bad for %q", r.Alert, r.For)
				}
			}
			rules[r.Alert] = r.Expr
			fors[r.Alert] = r.For
		}
	}
	want := []struct {
		alert    string
		contains []string
		forDur   string
	}{
		{"AuthgateJWKSStale", []string{"time() - authgate_jwks_last_success_timestamp_seconds", "> 3600"}, "10m"},
		{"AuthgateRefreshTokenReuse", []string{"increase(authgate_refresh_reuse_detected_total[10m]) > 0"}, ""},
		{"AuthgateHigh5xxRate", []string{`authgate_http_requests_total{status="5xx"}`, "> 0.05"}, "10m"},
		{"AuthgateConfigReloadFailed", []string{`increase(authgate_config_reloads_total{result="failure"}`, "> 0"}, ""},
	}
	for _, w := range want {
		t.Run(w.alert, func(t *testing.T) {
			expr, ok := rules[w.alert]
			if !ok {
				t.Fatalf("alert %s missing", w.alert)
			}
			for _, c := range w.contains {
				if !strings.Contains(expr, c) {
					t.Errorf("expr %q lacks %q", expr, c)
				}
			}
			if fors[w.alert] != w.forDur {
				t.Errorf("for = %q, want %q", fors[w.alert], w.forDur)
			}
		})
	}
}
