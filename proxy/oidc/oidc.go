// Package oidc signs people in through external OpenID Connect providers:
// the authorization code flow with PKCE (S256), a state bound to the
// browser by a short-lived sealed cookie, a nonce checked in the ID token,
// the exact redirect URI, the ID token verified against the provider's
// keys (issuer-bound, algorithm allow-list), and the RFC 9207 "iss"
// response parameter checked. The protocol itself is golang.org/x/oauth2
// and github.com/coreos/go-oidc/v3.
//
// A Handler serves two paths per provider below the account prefix:
//
//	GET {prefix}/oidc/{name}/start?rd=...   sends the browser to the provider
//	GET {prefix}/oidc/{name}/callback       where the provider sends it back
//
// Once the provider has vouched for someone and the access rules admit
// them, the Handler hands an Identity to its Finisher, which starts
// authgate's own session.
package oidc

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authgate/authgate/proxy/redirect"
)

// Provider is one external OpenID Connect provider.
type Provider struct {
	// Name is the provider's name in paths, logs and metrics.
	Name string
	// DisplayName is the text of its button.
	DisplayName string
	// Issuer is the issuer URL; its discovery document must name it.
	Issuer   string
	ClientID string
	// ClientSecret authenticates the client at the token endpoint
	// (client_secret_basic or client_secret_post) unless ClientKey is set.
	ClientSecret string
	// ClientKey, when set, authenticates the client with private_key_jwt
	// (RFC 7523, OpenID Connect Core section 9): a JWT signed with it
	// rides in the code exchange and no secret is sent. See
	// ParseClientKey.
	ClientKey crypto.Signer
	// ClientKeyID is the "kid" of the client assertions, "" for none.
	ClientKeyID string
	// RedirectURL is the exact callback URL registered at the provider.
	RedirectURL string
	Scopes      []string
	// Algorithms is the allow-list of ID token algorithms.
	Algorithms []string
	// UsernameClaim, EmailClaim and RolesClaim name ID token claims
	// (dotted paths for nested ones).
	UsernameClaim, EmailClaim, RolesClaim string
	// AllowedEmailDomains and AllowedGroups, when set, restrict who may
	// sign in.
	AllowedEmailDomains []string
	AllowedGroups       []string
	// RequireEmailVerified refuses an unverified email.
	RequireEmailVerified bool
	// CreateUsers creates an account on someone's first sign-in.
	CreateUsers bool
	// EndSession ends the session at the provider too when someone
	// signed in through it signs out of authgate (OpenID Connect
	// RP-Initiated Logout 1.0), when its discovery names an
	// end_session_endpoint; otherwise signing out ends authgate's session
	// only, and the provider's lives on.
	EndSession bool
	// PostLogoutRedirectURL is the post_logout_redirect_uri sent to the
	// end_session_endpoint, "" for none. It must be registered at the
	// provider; the configuration checked it is an allowed absolute URL.
	PostLogoutRedirectURL string
}

// Identity is someone a provider vouched for and the access rules
// admitted.
type Identity struct {
	// Provider is the provider's name; Subject the ID token's "sub".
	Provider string
	Subject  string
	// Username, Email and Groups are read from the configured claims;
	// EmailVerified from email_verified.
	Username      string
	Email         string
	EmailVerified bool
	Groups        []string
	// CreateUsers is the provider's create_users.
	CreateUsers bool
	// IDToken is the raw ID token, the id_token_hint of a later sign-out.
	IDToken string
}

// Finisher starts authgate's session for an admitted identity and sends
// the browser to rd. It answers every failure itself.
type Finisher interface {
	Finish(w http.ResponseWriter, r *http.Request, id *Identity, rd string)
}

// Metrics counts sign-ins by provider and result.
type Metrics interface {
	OIDCSignIn(provider, result string)
}

// Config is how a Handler behaves.
type Config struct {
	// Prefix is the account prefix, e.g. "/auth".
	Prefix    string
	Providers []Provider
	// Key seals the state cookies: at least 32 bytes, the same on every
	// replica (see DeriveKey).
	Key []byte
	// AllowedHosts are the hosts besides the request's own that rd may
	// name (redirect.Safe).
	AllowedHosts []string
	Finisher     Finisher
	Metrics      Metrics
	Logger       *slog.Logger
	// Client makes the requests to providers. Nil uses a client with a 10s
	// timeout.
	Client *http.Client
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Handler serves the start and callback paths of every provider. It is
// safe for concurrent use.
type Handler struct {
	cfg   Config
	aead  cipher.AEAD
	byKey map[string]*remote
	order []*remote

	// used holds the states already taken, until they expire: a copied
	// state cookie cannot be replayed on this process (the provider's
	// one-time code stops it on another replica).
	usedMu    sync.Mutex
	used      map[string]int64
	maxUsed   int   // bound of used (DefaultMaxUsed)
	lastSweep int64 // when used was last swept of expired states
}

// remote is a provider and, once discovery succeeded, its configuration.
type remote struct {
	p Provider

	mu        sync.Mutex
	op        *gooidc.Provider
	verifier  *gooidc.IDTokenVerifier
	issParam  bool // authorization_response_iss_parameter_supported
	endURL    string
	lastErr   error
	lastTried time.Time
}

// StateTTL is how long a browser has to come back from the provider.
const StateTTL = 10 * time.Minute

// stateCookiePrefix names the state cookies: one per sign-in under way,
// "__Secure-authgate-oidc-" + the first 16 characters of its state, so two
// tabs signing in at once do not overwrite each other's.
const stateCookiePrefix = "__Secure-authgate-oidc-"

// DeriveKey derives the state cookie key from secret key material every
// replica shares (authgate's signing key).
func DeriveKey(secret []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, secret, nil, "authgate oidc state v1", 32)
}

// New returns the Handler of cfg. Providers are discovered on first use,
// so a provider that is down does not stop authgate from starting.
func New(cfg Config) (*Handler, error) {
	if len(cfg.Key) < 32 {
		return nil, errors.New("oidc: the state key must be at least 32 bytes")
	}
	if cfg.Finisher == nil {
		return nil, errors.New("oidc: a Finisher is required")
	}
	block, err := aes.NewCipher(cfg.Key[:32])
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	h := &Handler{cfg: cfg, aead: aead, byKey: map[string]*remote{}, used: map[string]int64{}, maxUsed: DefaultMaxUsed}
	for _, p := range cfg.Providers {
		r := &remote{p: p}
		h.byKey[p.Name] = r
		h.order = append(h.order, r)
	}
	return h, nil
}

// Button is a provider as the sign-in page shows it.
type Button struct {
	Name, DisplayName string
	// URL starts the sign-in and returns to rd.
	URL string
	// Unavailable says the provider could not be reached or is
	// misconfigured (its last discovery failed).
	Unavailable bool
}

// Buttons returns the providers, in configuration order, for the sign-in
// page of a sign-in that returns to rd.
func (h *Handler) Buttons(rd string) []Button {
	out := make([]Button, 0, len(h.order))
	for _, r := range h.order {
		r.mu.Lock()
		down := r.op == nil && r.lastErr != nil
		r.mu.Unlock()
		out = append(out, Button{Name: r.p.Name, DisplayName: r.p.DisplayName, URL: h.StartURL(r.p.Name, rd), Unavailable: down})
	}
	return out
}

// StartURL is the path that starts a sign-in through provider name and
// returns to rd.
func (h *Handler) StartURL(name, rd string) string {
	u := h.cfg.Prefix + "/oidc/" + name + "/start"
	if rd != "" {
		u += "?rd=" + urlQueryEscape(rd)
	}
	return u
}

// Has reports whether name is a configured provider.
func (h *Handler) Has(name string) bool {
	_, ok := h.byKey[name]
	return ok
}

// Status reports, for /readyz, each provider's last discovery error (nil
// when it is ready or not tried yet). It tries discovery again for
// providers not yet discovered.
func (h *Handler) Status(ctx context.Context) map[string]error {
	out := make(map[string]error, len(h.order))
	for _, r := range h.order {
		_, err := h.discover(ctx, r)
		out[r.p.Name] = err
	}
	return out
}

// Ready reports, for /readyz, whether provider name's configuration has
// been discovered, trying discovery again when it has not.
func (h *Handler) Ready(ctx context.Context, name string) error {
	r, ok := h.byKey[name]
	if !ok {
		return fmt.Errorf("no provider %q", name)
	}
	_, err := h.discover(ctx, r)
	return err
}

// Serves reports whether canonical path p is one of the Handler's.
func (h *Handler) Serves(p string) bool {
	_, _, ok := h.split(p)
	return ok
}

func (h *Handler) split(p string) (*remote, string, bool) {
	rest, ok := strings.CutPrefix(p, h.cfg.Prefix+"/oidc/")
	if !ok {
		return nil, "", false
	}
	name, action, ok := strings.Cut(rest, "/")
	if !ok || (action != "start" && action != "callback") {
		return nil, "", false
	}
	r, ok := h.byKey[name]
	return r, action, ok
}

// ServeHTTP serves a path Serves accepted.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rp, action, ok := h.split(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		h.refuse(w, http.StatusMethodNotAllowed, rp, "method", "This page does not accept that request.")
		return
	}
	if action == "start" {
		h.start(w, r, rp)
		return
	}
	h.callback(w, r, rp)
}

// discover returns the provider's configuration, running discovery when
// it has not succeeded yet (at most every 5 seconds).
func (h *Handler) discover(ctx context.Context, r *remote) (*gooidc.Provider, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.op != nil {
		return r.op, nil
	}
	now := h.cfg.Now()
	if r.lastErr != nil && now.Sub(r.lastTried) < 5*time.Second && now.Sub(r.lastTried) >= 0 {
		return nil, r.lastErr
	}
	r.lastTried = now
	ctx, cancel := context.WithTimeout(gooidc.ClientContext(ctx, h.cfg.Client), 10*time.Second)
	defer cancel()
	op, err := gooidc.NewProvider(ctx, r.p.Issuer)
	if err != nil {
		r.lastErr = fmt.Errorf("discovery of provider %s: %w", r.p.Name, err)
		h.cfg.Logger.Warn("oidc provider unavailable", "provider", r.p.Name, "error", err)
		return nil, r.lastErr
	}
	var meta struct {
		ISSParam bool   `json:"authorization_response_iss_parameter_supported"`
		EndURL   string `json:"end_session_endpoint"`
	}
	_ = op.Claims(&meta)
	r.op, r.issParam, r.endURL, r.lastErr = op, meta.ISSParam, meta.EndURL, nil
	r.verifier = op.VerifierContext(gooidc.ClientContext(context.Background(), h.cfg.Client), &gooidc.Config{
		ClientID:             r.p.ClientID,
		SupportedSigningAlgs: r.p.Algorithms,
		Now:                  h.cfg.Now,
	})
	return op, nil
}

func (r *remote) oauth2(op *gooidc.Provider) *oauth2.Config {
	c := &oauth2.Config{
		ClientID: r.p.ClientID, ClientSecret: r.p.ClientSecret, RedirectURL: r.p.RedirectURL,
		Endpoint: op.Endpoint(), Scopes: r.p.Scopes,
	}
	if r.p.ClientKey != nil {
		// private_key_jwt: client_id in the body beside the assertion,
		// and no secret anywhere.
		c.ClientSecret, c.Endpoint.AuthStyle = "", oauth2.AuthStyleInParams
	}
	return c
}

// state is what a state cookie seals.
type state struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	RD       string `json:"rd,omitempty"`
	Expires  int64  `json:"e"`
}

func (h *Handler) start(w http.ResponseWriter, r *http.Request, rp *remote) {
	rd := r.URL.Query().Get("rd")
	if rd != "" && !redirect.Safe(rd, r.Host, h.cfg.AllowedHosts) {
		h.refuse(w, http.StatusBadRequest, rp, "bad_redirect", "The address to return to after signing in is not allowed.")
		return
	}
	op, err := h.discover(r.Context(), rp)
	if err != nil {
		h.refuse(w, http.StatusServiceUnavailable, rp, "unavailable",
			"Signing in with "+rp.p.DisplayName+" is unavailable right now. Try again later.")
		return
	}
	st := state{Provider: rp.p.Name, State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(), RD: rd,
		Expires: h.cfg.Now().Add(StateTTL).Unix()}
	sealed, err := h.seal(stateCookiePrefix, st)
	if err != nil {
		h.refuse(w, http.StatusInternalServerError, rp, "error", "Signing in failed. Try again.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookiePrefix + st.State[:16], Value: sealed, Path: h.cookiePath(rp),
		MaxAge: int(StateTTL / time.Second), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	u := rp.oauth2(op).AuthCodeURL(st.State, gooidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	http.Redirect(w, r, u, http.StatusFound)
}

// cookiePath scopes a provider's state cookies to its callback.
func (h *Handler) cookiePath(rp *remote) string {
	return h.cfg.Prefix + "/oidc/" + rp.p.Name + "/callback"
}

// Refusals of the callback, as metrics results.
const (
	resultBadState  = "bad_state"
	resultDenied    = "denied"
	resultMixUp     = "mix_up"
	resultExchange  = "exchange_failed"
	resultBadToken  = "bad_id_token"
	resultBadNonce  = "bad_nonce"
	resultForbidden = "forbidden"
	resultBusy      = "busy"
)

func (h *Handler) callback(w http.ResponseWriter, r *http.Request, rp *remote) {
	q := r.URL.Query()
	st, err := h.takeState(w, r, rp, q.Get("state"))
	switch {
	case errors.Is(err, errBusy):
		h.cfg.Logger.Warn("oidc sign-in refused: too many sign-ins under way", "provider", rp.p.Name, "limit", h.maxUsed)
		w.Header().Set("Retry-After", "60")
		h.refuse(w, http.StatusServiceUnavailable, rp, resultBusy,
			"Too many sign-ins are under way right now. Start again in a few minutes.")
		return
	case err != nil:
		h.refuse(w, http.StatusBadRequest, rp, resultBadState,
			"This sign-in expired or was started in another browser. Start again.")
		return
	}
	op, err := h.discover(r.Context(), rp)
	if err != nil {
		h.refuse(w, http.StatusServiceUnavailable, rp, "unavailable",
			"Signing in with "+rp.p.DisplayName+" is unavailable right now. Try again later.")
		return
	}
	// RFC 9207: an "iss" that is not this provider's means the response
	// came from another one (mix-up); one that is missing where the
	// provider promises to send it is refused too.
	if iss, sent := q["iss"]; sent && (len(iss) != 1 || iss[0] != rp.p.Issuer) || !sent && rp.issParam {
		h.refuse(w, http.StatusBadRequest, rp, resultMixUp, "The answer did not come from "+rp.p.DisplayName+". Start again.")
		return
	}
	if e := q.Get("error"); e != "" {
		h.refuse(w, http.StatusForbidden, rp, resultDenied, rp.p.DisplayName+" did not sign you in.")
		return
	}
	code := q.Get("code")
	if code == "" {
		h.refuse(w, http.StatusBadRequest, rp, resultExchange, "The answer of "+rp.p.DisplayName+" carried no code. Start again.")
		return
	}
	conf := rp.oauth2(op)
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(st.Verifier)}
	if rp.p.ClientKey != nil {
		assertion, err := clientAssertion(rp.p, conf.Endpoint.TokenURL, h.cfg.Now())
		if err != nil {
			h.cfg.Logger.Error("oidc client assertion not signed", "provider", rp.p.Name, "error", err)
			h.refuse(w, http.StatusInternalServerError, rp, resultExchange, "Signing in failed. Try again.")
			return
		}
		opts = append(opts, oauth2.SetAuthURLParam("client_assertion_type", AssertionType),
			oauth2.SetAuthURLParam("client_assertion", assertion))
	}
	ctx := context.WithValue(r.Context(), oauth2.HTTPClient, h.cfg.Client)
	tok, err := conf.Exchange(ctx, code, opts...)
	if err != nil {
		h.cfg.Logger.Warn("oidc code exchange failed", "provider", rp.p.Name, "error", err)
		h.refuse(w, http.StatusBadGateway, rp, resultExchange, rp.p.DisplayName+" did not confirm the sign-in. Start again.")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		h.refuse(w, http.StatusBadGateway, rp, resultBadToken, rp.p.DisplayName+" sent no ID token.")
		return
	}
	rp.mu.Lock()
	verifier := rp.verifier
	rp.mu.Unlock()
	idt, err := verifier.Verify(r.Context(), raw)
	if err != nil {
		h.cfg.Logger.Warn("oidc id token refused", "provider", rp.p.Name, "error", err)
		h.refuse(w, http.StatusBadGateway, rp, resultBadToken, "The sign-in of "+rp.p.DisplayName+" could not be verified. Start again.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		h.refuse(w, http.StatusBadRequest, rp, resultBadNonce, "The sign-in of "+rp.p.DisplayName+" could not be verified. Start again.")
		return
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		h.refuse(w, http.StatusBadGateway, rp, resultBadToken, "The sign-in of "+rp.p.DisplayName+" could not be verified. Start again.")
		return
	}
	id := identityOf(rp.p, idt.Subject, claims, raw)
	if why := admit(rp.p, id); why != "" {
		h.cfg.Logger.Info("oidc sign-in refused", "provider", rp.p.Name, "reason", why)
		h.refuse(w, http.StatusForbidden, rp, resultForbidden, "Your "+rp.p.DisplayName+" account may not sign in here: "+why+".")
		return
	}
	rd := st.RD
	if rd != "" && !redirect.Safe(rd, r.Host, h.cfg.AllowedHosts) {
		rd = ""
	}
	h.cfg.Finisher.Finish(w, r, id, rd)
}

// takeState opens the state cookie of state param got, checks it, and
// clears it: a state is good for one callback. The error is errBadState,
// or errBusy when too many states are remembered to take another.
func (h *Handler) takeState(w http.ResponseWriter, r *http.Request, rp *remote, got string) (*state, error) {
	if len(got) < 16 || len(got) > 128 {
		return nil, errBadState
	}
	name := stateCookiePrefix + got[:16]
	c, err := r.Cookie(name)
	if err != nil {
		return nil, errBadState
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: h.cookiePath(rp), MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	var st state
	if err := h.open(stateCookiePrefix, c.Value, &st); err != nil || st.Provider != rp.p.Name ||
		h.cfg.Now().Unix() > st.Expires || subtle.ConstantTimeCompare([]byte(st.State), []byte(got)) != 1 {
		return nil, errBadState
	}
	if err := h.markUsed(&st); err != nil {
		return nil, err
	}
	return &st, nil
}
