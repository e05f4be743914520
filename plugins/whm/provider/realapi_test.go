package provider_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/whm/provider"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/sdktest"
)

// refExchange is one file of the client's testdata/reference: an answer
// from a source independent of the simulator, named in Source.
type refExchange struct {
	Source      string          `json:"source"`
	Status      int             `json:"status"`
	ContentType string          `json:"content_type"`
	Body        string          `json:"body"`
	Response    json.RawMessage `json:"response"`
}

func refAnswer(t *testing.T, name string) (status int, ctype string, body []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "client", "testdata", "reference", name))
	require.NoError(t, err)
	var x refExchange
	require.NoError(t, json.Unmarshal(b, &x))
	require.NotEmpty(t, x.Source)
	if x.Response != nil {
		return http.StatusOK, "application/json", x.Response
	}
	return x.Status, x.ContentType, []byte(x.Body)
}

// fakeWHM answers accountsummary as given, and everything else (listaccts,
// for suggestions) with one account, ghosts.
func fakeWHM(t *testing.T, status int, ctype string, body []byte) sdk.Target {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fn := strings.TrimPrefix(r.URL.Path, "/json-api/")
		if fn == "accountsummary" {
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(status)
			_, _ = w.Write(body)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"metadata": map[string]any{"command": fn, "result": 1, "reason": "OK", "version": 1},
			"data": map[string]any{"acct": []any{map[string]any{"user": "ghosts", "domain": "ghosts.example"}}}})
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return sdk.Target{Name: "web01", Settings: map[string]string{"host": u.Hostname(), "port": u.Port(), "scheme": "http"}, Secrets: map[string]string{"token": token}}
}

// Only WHM's answer that the account does not exist becomes "there is no
// account"; a refused token, a missing ACL or any other failure is
// reported as what it is. Before, every accountsummary failure read
// "there is no account".
func TestAccountSummaryFailuresAreReportedAsWhatTheyAre(t *testing.T) {
	aclRefusal := []byte(`{"metadata":{"command":"accountsummary","reason":"Permission denied","result":0,"version":1}}`)
	serverError := []byte(`{"metadata":{"command":"accountsummary","reason":"Unable to read /var/cpanel/users/ghost: Input/output error","result":0,"version":1}}`)
	missingStatus, missingType, missing := refAnswer(t, "account_missing.json")
	loginStatus, loginType, login := refAnswer(t, "login_page_403.json")
	cases := []struct {
		name         string
		status       int
		ctype        string
		body         []byte
		want, notWas string
	}{
		{"missing account (the reference's words)", missingStatus, missingType, missing, `there is no account with user "ghost"`, ""},
		{"refused token (login page)", loginStatus, loginType, login, "access denied", "there is no account"},
		{"401", http.StatusUnauthorized, "text/plain", []byte("Unauthorized"), "access denied", "there is no account"},
		{"ACL refusal", http.StatusOK, "application/json", aclRefusal, "Permission denied", "there is no account"},
		{"other failure", http.StatusOK, "application/json", serverError, "Input/output error", "there is no account"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := sdktest.Start(t, provider.New(), fakeWHM(t, tc.status, tc.ctype, tc.body))
			for _, cmd := range []struct {
				name string
				args sdk.Args
			}{
				{"account info", sdk.Args{"account": "ghost"}},
				{"account suspend", sdk.Args{"user": "ghost", "reason": "abuse"}},
			} {
				var text string
				if cmd.name == "account info" {
					out := h.Execute(cmd.name, cmd.args)
					text = out.Text + out.Diagnostics.Err().Error()
				} else {
					_, text = plan(t, h, cmd.name, cmd.args)
				}
				assert.Contains(t, text, tc.want, cmd.name)
				if tc.notWas != "" {
					assert.NotContains(t, text, tc.notWas, cmd.name)
				}
				assert.NotContains(t, text, token)
			}
		})
	}
}

// The rules reach the commands: `call convertopensshtoputty` (a PuTTY
// private key) and `call cors_proxy_get` (WHM fetches any URL) need
// approval and answer the requester only.
func TestRuledFunctionsNeedApprovalAndAnswerPrivately(t *testing.T) {
	h, _ := start(t)
	found := 0
	for _, c := range h.Commands() {
		switch c.Name {
		case "call convertopensshtoputty", "call cors_proxy_get":
			found++
			assert.GreaterOrEqual(t, c.Risk, sdk.RiskHigh, c.Name)
			assert.True(t, c.SensitiveOutput, c.Name)
			assert.Contains(t, c.Help, "Rated by the rule", c.Name)
		case "call listaccts":
			assert.False(t, c.SensitiveOutput, c.Name)
		}
	}
	assert.Equal(t, 2, found)
}
