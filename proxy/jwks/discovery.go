package jwks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// discoveryPath is where OpenID Connect Discovery 1.0 §4 puts the
// configuration document, relative to the issuer.
const discoveryPath = "/.well-known/openid-configuration"

// maxQuoted bounds strings taken from a remote document before they are
// quoted in an error.
const maxQuoted = 200

// discoveryURL is the configuration document URL of issuer: one trailing
// "/" of the issuer is removed before the well-known path is appended.
func discoveryURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + discoveryPath
}

// discover fetches the discovery document of s's issuer and returns its
// jwks_uri, after checking that the document names exactly the configured
// issuer (OpenID Connect Discovery 1.0 §4.3) and that jwks_uri may be
// fetched (https, or http to a loopback host).
func (s *Source) discover(ctx context.Context) (string, error) {
	u := discoveryURL(s.cfg.Issuer)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("jwks: discovery: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return "", fmt.Errorf("jwks: discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("jwks: discovery: GET %s: status %d", u, resp.StatusCode)
	}
	body, err := readAll(resp.Body, s.cfg.MaxBytes)
	if err != nil {
		return "", fmt.Errorf("jwks: discovery: GET %s: %w", u, err)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("jwks: discovery: GET %s: not a discovery document: %w", u, err)
	}
	if doc.Issuer != s.cfg.Issuer {
		return "", fmt.Errorf("jwks: discovery: %s names issuer %q, want %q", u, bound(doc.Issuer), s.cfg.Issuer)
	}
	if doc.JWKSURI == "" {
		return "", fmt.Errorf("jwks: discovery: %s has no jwks_uri", u)
	}
	if _, err := checkURL(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("jwks: discovery: %s: jwks_uri refused: %w", u, err)
	}
	return doc.JWKSURI, nil
}

// bound shortens s for an error message.
func bound(s string) string {
	if len(s) > maxQuoted {
		return s[:maxQuoted] + "..."
	}
	return s
}
