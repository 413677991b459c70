package assemble_test

import (
	"testing"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy/accounts"
)

// TestSessionRevocationOutlivesAccessTokens: a revoked session is kept
// (in the store and in memory) at least as long as any access token issued
// in it can still verify, whatever the configuration.
func TestSessionRevocationOutlivesAccessTokens(t *testing.T) {
	if longest := config.MaxAccessTTL + config.MaxLeeway; accounts.SessionRevocationRetention < longest {
		t.Errorf("SessionRevocationRetention = %s, shorter than the longest access token validity %s",
			accounts.SessionRevocationRetention, longest)
	}
}
