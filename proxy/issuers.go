package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy/jwks"
	"github.com/authgate/authgate/proxy/token"
)

// issuerSource is the key source of one external issuer.
type issuerSource struct {
	name string
	src  *jwks.Source
}

// startIssuers starts fetching the keys of every external issuer (in the
// background: an unreachable IdP never delays startup) and returns their
// verification rules.
func (rt *runtime) startIssuers(issuers []config.Issuer, logger *slog.Logger) ([]token.Issuer, error) {
	out := make([]token.Issuer, 0, len(issuers))
	for i, ic := range issuers {
		src, err := jwks.New(jwks.Config{
			Name:            ic.Name,
			Issuer:          ic.Issuer,
			JWKSURL:         ic.JWKSURL,
			Discovery:       ic.Discovery,
			Algorithms:      ic.Algorithms,
			RefreshInterval: ic.RefreshInterval,
			Logger:          logger,
			OnFetch: func(result string, at time.Time) {
				rt.metrics.JWKSRefresh(ic.Name, result, at)
			},
		})
		if err != nil {
			return nil, fmt.Errorf("issuers[%d] (%s): %w", i, ic.Name, err)
		}
		rt.sources = append(rt.sources, issuerSource{name: ic.Name, src: src})
		out = append(out, token.Issuer{
			Name:         ic.Name,
			Issuer:       ic.Issuer,
			Audience:     ic.Audience,
			Algorithms:   ic.Algorithms,
			Types:        ic.Typ,
			Leeway:       ic.Leeway,
			Keys:         src.Keyfunc,
			SubjectClaim: ic.SubjectClaim,
			RolesClaim:   ic.RolesClaim,
			ScopesClaim:  ic.ScopesClaim,
		})
	}
	return out, nil
}

// IssuerStatus is what readiness reports of one external issuer.
type IssuerStatus struct {
	Name    string
	HasKeys bool
	Keys    int
	Error   string // the last fetch error, "" when none
}

// Issuers reports the key status of every external issuer of the current
// configuration, in config order.
func (g *Gateway) Issuers() []IssuerStatus {
	rt := g.rt.Load()
	out := make([]IssuerStatus, 0, len(rt.sources))
	for _, s := range rt.sources {
		st := s.src.Status()
		out = append(out, IssuerStatus{Name: s.name, HasKeys: st.HasKeys, Keys: st.Keys, Error: st.LastError})
	}
	return out
}

// Readiness is the answer to /readyz: whether this process should receive
// traffic, and the state of each check.
type Readiness struct {
	Ready bool `json:"ready"`
	// Checks maps a check ("config", "store", "issuer:corp") to "ok" or
	// what is wrong.
	Checks map[string]string `json:"checks"`
}

// Readiness checks what traffic depends on: a loaded configuration (always
// true once New succeeded, keys included), a reachable store, and keys for
// every external issuer.
func (g *Gateway) Readiness(ctx context.Context) Readiness {
	r := Readiness{Ready: true, Checks: map[string]string{"config": "ok"}}
	fail := func(check, why string) {
		r.Ready = false
		r.Checks[check] = why
	}
	if g.store != nil {
		if err := g.store.Ping(ctx); err != nil {
			fail("store", "unreachable")
		} else {
			r.Checks["store"] = "ok"
		}
	}
	for _, is := range g.Issuers() {
		check := "issuer:" + is.Name
		switch {
		case is.HasKeys:
			r.Checks[check] = "ok"
		case is.Error != "":
			fail(check, "no keys: "+is.Error)
		default:
			fail(check, "no keys yet")
		}
	}
	return r
}
