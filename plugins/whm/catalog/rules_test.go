package catalog_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/whm/catalog"
	"github.com/deskbot/deskbot/sdk"
)

// secretKeys are answer keys that hold a secret when they have a value.
var secretKeys = map[string]bool{
	"accesshash": true, "token": true, "private_key": true, "privatekey": true, "pem": true, "hulk_auth_passwd": true,
	"mysql_pass": true, "secret": true, "otpauth_str": true, "access_token": true, "refresh_token": true,
	"set-cookie": true, "password": true,
}

// privateKeyText is a private key in any of the forms WHM hands out.
var privateKeyText = regexp.MustCompile(`PRIVATE KEY|PuTTY-User-Key-File|OPENSSH PRIVATE KEY`)

// revealsSecret reports whether a documented answer holds a secret.
func revealsSecret(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if secretKeys[strings.ToLower(k)] {
				switch s := e.(type) {
				case string:
					if s != "" {
						return true
					}
				case float64, bool:
					return true
				}
			}
			if revealsSecret(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if revealsSecret(e) {
				return true
			}
		}
	case string:
		return privateKeyText.MatchString(x)
	}
	return false
}

// addressParam names a parameter that is an address WHM goes to.
var addressParam = regexp.MustCompile(`^(url|uri|host|hostname|mysql_host|redirect_uri)$`)

// notAnAddress are functions whose address-named parameter WHM does not
// fetch, post to or log in to, and why.
var notAnAddress = map[string]string{
	"lookupnsip":  "resolves a name server's address: a DNS lookup; nothing is fetched and no body comes back",
	"lookupnsips": "resolves name servers' addresses: a DNS lookup; nothing is fetched and no body comes back",
}

// notARemoteCredential are functions that take a secret-named parameter
// without testing it anywhere, and why.
var notARemoteCredential = map[string]string{
	"get_password_strength": "scores the password on the server itself; it is masked like any secret",
	"api_token_get_details": "its token parameter is the token's name, not the token",
}

// Every function of the catalog against the written rules: the response
// samples are read for secrets, the parameters for addresses and
// credentials, and each function found must be rated as its rule says.
func TestEveryFunctionIsRatedByTheRules(t *testing.T) {
	cat := catalog.MustLoad()
	for _, r := range catalog.Rules {
		require.NotEmpty(t, r.Says, r.Name)
		for _, fn := range r.Functions {
			_, ok := cat.Get(fn)
			assert.True(t, ok, "rule %s names %q, which is not a WHM API 1 function", r.Name, fn)
			assert.GreaterOrEqual(t, catalog.RiskOf(fn), r.Level, "%s is under %s", fn, r.Name)
			if r.SensitiveOutput {
				assert.True(t, catalog.SensitiveOutput(fn), "%s is under %s", fn, r.Name)
			}
		}
	}
	under := func(fn, rule string) bool {
		for _, r := range catalog.RulesOf(fn) {
			if r.Name == rule {
				return true
			}
		}
		return false
	}
	secrets, addresses, credentials := 0, 0, 0
	for _, f := range cat.Functions {
		// Returns secrets: critical, and shown to the requester only.
		if sample := cat.Sample(f.Name); len(sample) > 0 {
			var v any
			require.NoError(t, json.Unmarshal(sample, &v), f.Name)
			if revealsSecret(v) {
				secrets++
				assert.True(t, under(f.Name, "returns-secrets"), "%s's documented answer holds a secret: rule returns-secrets", f.Name)
				assert.Equal(t, sdk.RiskCritical, catalog.RiskOf(f.Name), f.Name)
				assert.True(t, catalog.SensitiveOutput(f.Name), f.Name)
			}
		}
		for _, p := range f.Params {
			// Goes to an address the caller gives: high at least.
			if addressParam.MatchString(strings.ToLower(p.Name)) {
				if _, ok := notAnAddress[f.Name]; ok {
					continue
				}
				addresses++
				assert.GreaterOrEqual(t, catalog.RiskOf(f.Name), sdk.RiskHigh, "%s takes the address %s: high at least", f.Name, p.Name)
			}
			// Takes a secret: it is tried somewhere, high at least, or it
			// says why not.
			if catalog.SecretParam(f.Name, p) {
				if _, ok := notARemoteCredential[f.Name]; ok {
					continue
				}
				credentials++
				assert.GreaterOrEqual(t, catalog.RiskOf(f.Name), sdk.RiskHigh, "%s takes the secret %s: high at least", f.Name, p.Name)
			}
		}
	}
	assert.Greater(t, secrets, 20, "the samples were read")
	assert.Greater(t, addresses, 20)
	assert.Greater(t, credentials, 20)
	for fn := range notAnAddress {
		_, ok := cat.Get(fn)
		assert.True(t, ok, fn)
	}
	for fn := range notARemoteCredential {
		_, ok := cat.Get(fn)
		assert.True(t, ok, fn)
	}
}

// The two functions the tracker names: a PuTTY private key and a proxy to
// any URL. Both need approval (high or more) and are shown to the
// requester only.
func TestTheNamedFunctionsNeedApprovalAndAreSensitive(t *testing.T) {
	assert.Equal(t, sdk.RiskCritical, catalog.RiskOf("convertopensshtoputty"))
	assert.True(t, catalog.SensitiveOutput("convertopensshtoputty"))
	assert.GreaterOrEqual(t, catalog.RiskOf("cors_proxy_get"), sdk.RiskHigh)
	assert.True(t, catalog.SensitiveOutput("cors_proxy_get"))
	// Their effect is apart from their risk: neither is retried blindly
	// (cors_proxy_get reaches another host), and fetchsslinfo, critical
	// for the key it returns, still reads.
	assert.False(t, catalog.Reads("cors_proxy_get"))
	assert.True(t, catalog.Reads("fetchsslinfo"))
	assert.False(t, catalog.Reads("createacct"))
}
