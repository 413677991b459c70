package oidc

import (
	"bytes"
	"testing"
)

// FuzzOpen: a sealed cookie value from the browser opens only to what a
// Handler with this key sealed under that name; anything else, however
// malformed, is refused without a panic.
func FuzzOpen(f *testing.F) {
	h, err := New(Config{Prefix: "/auth", Key: bytes.Repeat([]byte{7}, 32), Finisher: &finisher{}})
	if err != nil {
		f.Fatal(err)
	}
	want := state{Provider: "mock", State: "s", Nonce: "n", Verifier: "v", RD: "/app", Expires: 1 << 40}
	good, err := h.seal(stateCookiePrefix, want)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(stateCookiePrefix, good)
	f.Add(hintCookie, good)                      // another cookie's name
	f.Add(stateCookiePrefix, good[:len(good)-2]) // truncated
	f.Add(stateCookiePrefix, "A"+good[1:])       // nonce changed
	f.Add(stateCookiePrefix, "")
	f.Add(stateCookiePrefix, "not base64!")
	f.Fuzz(func(t *testing.T, ad, v string) {
		var st state
		if h.open(ad, v, &st) != nil {
			return
		}
		if ad != stateCookiePrefix || st != want {
			t.Fatalf("opened a value it did not seal: ad %q, %q", ad, v)
		}
	})
}
