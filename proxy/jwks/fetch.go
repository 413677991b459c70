package jwks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/MicahParks/jwkset"
)

// fetchObserver is the transport of the client that fetches the JWK Set.
//
// jwkset replaces the stored keys after every successful fetch and reports
// only failures, so success is judged here, before jwkset sees the body: a
// 200 response is read in full (at most maxBytes) and parsed exactly as
// jwkset parses it. A body jwkset would refuse, or that this package
// refuses (no "keys" member, an empty key set), fails the request, so
// jwkset keeps the previous keys and reports the error; any other body is
// one jwkset will store, and counts as a success.
type fetchObserver struct {
	base      http.RoundTripper
	maxBytes  int64
	onSuccess func()
}

func (o *fetchObserver) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := o.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err // redirects and errors are for the client and jwkset
	}
	body, err := readAll(resp.Body, o.maxBytes)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if err := checkJWKSet(body); err != nil {
		return nil, err
	}
	o.onSuccess()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// underlying transport.
func (o *fetchObserver) CloseIdleConnections() {
	if c, ok := o.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// checkJWKSet parses body as jwkset's refresh does and fails where that
// refresh would. It also refuses a document without a "keys"
// array (RFC 7517 §5 requires one) and an empty key set: an IdP publishing
// no keys at all is far more likely broken than rotating every key away,
// so the last good keys are kept.
func checkJWKSet(body []byte) error {
	var set struct {
		Keys *[]jwkset.JWKMarshal `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return fmt.Errorf("jwks: response is not a JWK Set: %w", err)
	}
	if set.Keys == nil {
		return errors.New(`jwks: response is not a JWK Set: no "keys" array`)
	}
	if len(*set.Keys) == 0 {
		return errors.New("jwks: JWK Set is empty; keeping the previous keys")
	}
	for i, m := range *set.Keys {
		// The options jwkset's HTTP storage uses.
		_, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{Private: true}, jwkset.JWKValidateOptions{})
		switch {
		case errors.Is(err, jwkset.ErrUnsupportedKey):
			continue // jwkset skips these too
		case err != nil:
			return fmt.Errorf("jwks: JWK Set key %d: %w", i, err)
		}
	}
	return nil
}
