package oidc

import (
	"net/url"
	"slices"
	"strings"

	"github.com/authgate/authgate/proxy/identity"
)

// claim returns the value at a dotted path of claims: "realm_access.roles"
// is claims["realm_access"]["roles"]. A claim whose own name contains the
// dots wins.
func claim(claims map[string]any, path string) any {
	if v, ok := claims[path]; ok {
		return v
	}
	var cur any = claims
	for seg := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = m[seg]; !ok {
			return nil
		}
	}
	return cur
}

// identityOf reads an Identity from a verified ID token's claims.
func identityOf(p Provider, sub string, claims map[string]any, raw string) *Identity {
	id := &Identity{Provider: p.Name, Subject: sub, CreateUsers: p.CreateUsers, IDToken: raw}
	id.Username, _ = claim(claims, p.UsernameClaim).(string)
	id.Email, _ = claim(claims, p.EmailClaim).(string)
	switch v := claims["email_verified"].(type) {
	case bool:
		id.EmailVerified = v
	case string: // some providers send "true"
		id.EmailVerified = v == "true"
	}
	id.Groups = identity.Strings(claim(claims, p.RolesClaim))
	return id
}

// admit applies the provider's access rules to id and returns why it is
// refused, "" when it is admitted.
func admit(p Provider, id *Identity) string {
	if id.Subject == "" {
		return "the provider named no subject"
	}
	if p.RequireEmailVerified && id.Email != "" && !id.EmailVerified {
		return "the email address is not verified"
	}
	if len(p.AllowedEmailDomains) > 0 {
		at := strings.LastIndexByte(id.Email, '@')
		if at < 0 || !id.EmailVerified || !slices.Contains(p.AllowedEmailDomains, strings.ToLower(id.Email[at+1:])) {
			return "the email address is not in an allowed domain"
		}
	}
	if len(p.AllowedGroups) > 0 && !slices.ContainsFunc(id.Groups, func(g string) bool { return slices.Contains(p.AllowedGroups, g) }) {
		return "the account is not in an allowed group"
	}
	return ""
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
