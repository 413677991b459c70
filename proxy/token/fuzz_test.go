package token_test

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/keys"
	"github.com/authgate/authgate/proxy/token"
)

// token68 is RFC 7235 §2.1 token68, written independently of bearer.go.
var token68 = regexp.MustCompile(`^[A-Za-z0-9\-._~+/]+=*$`)

func FuzzFromHeader(f *testing.F) {
	for _, s := range []string{
		"", "Bearer", "Bearer ", "Bearer abc", "bearer abc", "BEARER  abc==", "Bearer a b",
		"Bearer a=b", "Bearer =", "Basic dXNlcjpwYXNz", " Bearer abc", "Bearer\tabc", "Bearer abc\r\n",
		"Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln", "Bearer " + strings.Repeat("a", token.MaxTokenBytes+1),
	} {
		f.Add(s, false)
	}
	f.Add("Bearer abc", true)
	f.Fuzz(func(t *testing.T, v string, twice bool) {
		h := http.Header{"Authorization": {v}}
		if twice {
			h["Authorization"] = append(h["Authorization"], v)
		}
		tok, err := token.FromHeader(h)
		if err != nil {
			if tok != "" {
				t.Fatalf("FromHeader(%q) = %q with error %v", v, tok, err)
			}
			if s := sentinel(t, err); s == nil || s == token.ErrExpired {
				t.Fatalf("FromHeader(%q) error %v wraps no bearer sentinel", v, err)
			}
			if twice && !errors.Is(err, token.ErrMalformed) {
				t.Fatalf("two headers: error = %v, want ErrMalformed", err)
			}
			return
		}
		if twice {
			t.Fatalf("FromHeader accepted two Authorization headers %q", v)
		}
		if len(tok) == 0 || len(tok) > token.MaxTokenBytes || !token68.MatchString(tok) {
			t.Fatalf("FromHeader(%q) = %q: not a token68 of at most %d bytes", v, tok, token.MaxTokenBytes)
		}
		// v is "Bearer", one or more spaces, and the token.
		if len(v) < len("Bearer ")+len(tok) || !strings.EqualFold(v[:6], "Bearer") ||
			!strings.HasSuffix(v, tok) || strings.Trim(v[6:len(v)-len(tok)], " ") != "" || v[6] != ' ' {
			t.Fatalf("FromHeader(%q) = %q: not the credential of a Bearer header", v, tok)
		}
	})
}

// fuzzKey is a fixed Ed25519 key: every fuzz worker must build the same
// valid token, and Ed25519 signatures are deterministic and not malleable.
func fuzzKey(tb testing.TB) *keys.Key {
	der, err := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	if err != nil {
		tb.Fatal(err)
	}
	k, err := keys.Parse(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func FuzzVerify(f *testing.F) {
	k := fuzzKey(f)
	other, err := keys.Generate(keys.EdDSA)
	if err != nil {
		f.Fatal(err)
	}
	single := newVerifier(f, ownIssuer(k))
	multi := newVerifier(f, ownIssuer(k), externalIssuer("B", issB, other))
	good := sign(f, k, header(k), with(map[string]any{"roles": []any{"user"}, "scope": "read"}))
	expired := sign(f, k, header(k), with(expiredBy(time.Hour, nil)))
	h, p, s := segments(f, good)

	seeds := []string{
		good, "", ".", "..", "...", good + ".", good + "\n", "." + good, strings.ToUpper(good),
		h + "." + p + ".", h + "." + p, h + ".." + s, "." + p + "." + s,
		h + "=." + p + "." + s, h + "." + p + "=." + s, h + "." + p + "." + s + "=",
		h + "." + p + "." + s[:10] + "\n" + s[10:], h + "." + p + "." + s[:len(s)-1] + "B",
		b64([]byte(`{"alg":"none"}`)) + "." + p + ".",
		b64([]byte(`{"alg":"HS256","typ":"at+jwt","kid":"`+k.ID+`"}`)) + "." + p + "." + s,
		h + "." + b64([]byte(`{"iss":"`+issB+`","sub":"x"}`)) + "." + s,
		expired,
		sign(f, other, header(k), claims()),
	}
	for i := 1; i < len(good); i += 7 {
		seeds = append(seeds, good[:i], good[i:])
	}
	for _, i := range []int{0, 5, len(h) + 3, len(h) + len(p) + 4, len(good) - 1} {
		b := []byte(good)
		b[i] ^= 1
		seeds = append(seeds, string(b))
	}
	for _, s := range seeds {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, raw string) {
		for name, v := range map[string]*token.Verifier{"single": single, "multi": multi} {
			id, err := v.Verify(raw)
			if err == nil {
				if id == nil || id.Subject == "" {
					t.Fatalf("%s: Verify(%q) = %+v with no error", name, raw, id)
				}
				if raw != good {
					t.Fatalf("%s: Verify accepted a token other than the one signed: %q", name, raw)
				}
				continue
			}
			if id != nil {
				t.Fatalf("%s: Verify(%q) returned an identity with error %v", name, raw, err)
			}
			// Only the signed tokens are authentic: anything else is
			// invalid, never "expired".
			want := token.ErrInvalid
			if raw == expired {
				want = token.ErrExpired
			}
			if got := sentinel(t, err); got != want {
				t.Fatalf("%s: Verify(%q) error = %v, want %v", name, raw, err, want)
			}
		}
	})
}
