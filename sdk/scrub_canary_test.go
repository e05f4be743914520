package sdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// leaky is a plugin whose handlers put a value in every field a plan, a
// progress report and a result have, as a careless provider quoting its
// API's answers might.
func leaky(t *testing.T) *Plugin {
	p := New("leaky", "1")
	p.Secrets(String("api_key", "a key"))
	p.OnConfigure(func(ctx context.Context, t *TargetConfig) (any, error) { return nil, nil })
	everywhere := func(c *Call) string { return c.Args.String("echo") }
	p.Command("spill", "Put the value everywhere").
		Params(String("echo", "what to spill").AsRequired(), String("password", "a secret").AsSensitive()).
		Risk(RiskHigh).
		Plan(func(ctx context.Context, c *Call) (*Plan, error) {
			v := everywhere(c)
			return &Plan{Summary: v, Steps: []PlanStep{{Description: v, Method: v, Endpoint: "/x?q=" + v, Body: `{"note":"` + v + `"}`}}}, nil
		}).
		Run(func(ctx context.Context, c *Call) (*Result, error) {
			v := everywhere(c)
			c.Progress(10, "%s", v)
			c.ProgressState(v, 20, v)
			r := NewResult()
			r.Parts = append(r.Parts,
				Part{Title: v, Text: &Text{Body: v}},
				Part{Title: v, KeyValues: []KeyValue{{Key: v, Value: v}, {Key: "password", Value: "under a secret name"}}},
				Part{Title: v, Table: &Table{Columns: []string{v, "token"}, Rows: [][]string{{v, "under a secret column"}}}},
				Part{Title: v, File: &File{Name: v, MediaType: v, Content: []byte("a,b\n" + v)}},
			)
			r.Diagnostics = Diagnostics{{Severity: SeverityWarning, Summary: v, Detail: v, Attribute: v}}
			return r, nil
		})
	p.Command("fail", "Fail quoting the value").
		Params(String("echo", "what to quote").AsRequired(), String("password", "a secret").AsSensitive()).
		Plan(func(ctx context.Context, c *Call) (*Plan, error) {
			return nil, errors.New("the API said: " + everywhere(c))
		}).
		Run(func(ctx context.Context, c *Call) (*Result, error) {
			return nil, fmt.Errorf("the API said: %s", everywhere(c))
		})
	return p
}

func TestEveryFieldIsScrubbedOfSecrets(t *testing.T) {
	const targetSecret = "CANARY-target-key-5e1f"
	const argSecret = "CANARY-typed-password-9c3a"
	local := leaky(t)
	ctx := context.Background()
	resp, err := local.Configure(ctx, &ConfigureRequest{Targets: []Target{{Name: "main", Secrets: map[string]string{"api_key": targetSecret}}}})
	require.NoError(t, err)
	require.Empty(t, resp.Diagnostics)
	remote := dial(t, local)

	for _, canary := range []string{targetSecret, argSecret} {
		for name, p := range map[string]Provider{"in process": local, "over gRPC": remote} {
			t.Run(name+"/"+canary[:13], func(t *testing.T) {
				args := Args{"echo": canary, "password": argSecret}
				var seen string
				for _, cmd := range []string{"spill", "fail"} {
					pr, err := p.Plan(ctx, &PlanRequest{Request: Request{Command: cmd, Args: args}})
					require.NoError(t, err)
					res, err := p.Execute(ctx, &ExecuteRequest{Request: Request{Command: cmd, Args: args}, Progress: func(pg Progress) { seen += fmt.Sprintf("%+v", pg) }})
					require.NoError(t, err)
					seen += fmt.Sprintf("%+v %+v %+v %+v", pr.Plan, pr.Diagnostics, res, res.Parts)
					for _, part := range res.Parts {
						seen += fmt.Sprintf("%+v %+v %+v %s", part.Text, part.Table, part.File, part.File.contentOrEmpty())
					}
				}
				assert.NotContains(t, seen, canary)
				assert.Contains(t, seen, "[REDACTED]")
				assert.NotContains(t, seen, "under a secret name", "a value under a sensitive key is masked whole")
				assert.NotContains(t, seen, "under a secret column")
			})
		}
	}
}

func (f *File) contentOrEmpty() string {
	if f == nil {
		return ""
	}
	return string(f.Content)
}

// A provider's answer that is a private key (WHM's convertopensshtoputty
// answers a PuTTY key file) is scrubbed from every field, whatever its
// format, though no secret value or key name announces it.
func TestPrivateKeysAreScrubbedFromEveryField(t *testing.T) {
	keys := map[string]string{
		"PuTTY":   "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: k\nPublic-Lines: 1\nAAAAB3NzaC1yc2E\nPrivate-Lines: 1\nCANARYputtyPrivate\nPrivate-MAC: 3f2a9c0b1d4e5f607182\n",
		"OpenSSH": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjECANARYopenssh\n-----END OPENSSH PRIVATE KEY-----\n",
		"PKCS#8":  "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQECANARYpkcs8\n-----END PRIVATE KEY-----\n",
	}
	local := leaky(t)
	ctx := context.Background()
	_, err := local.Configure(ctx, &ConfigureRequest{Targets: []Target{{Name: "main", Secrets: map[string]string{"api_key": "CANARY-target-key-5e1f"}}}})
	require.NoError(t, err)
	remote := dial(t, local)
	for name, key := range keys {
		for via, p := range map[string]Provider{"in process": local, "over gRPC": remote} {
			t.Run(name+"/"+via, func(t *testing.T) {
				args := Args{"echo": key}
				var seen string
				for _, cmd := range []string{"spill", "fail"} {
					pr, err := p.Plan(ctx, &PlanRequest{Request: Request{Command: cmd, Args: args}})
					require.NoError(t, err)
					res, err := p.Execute(ctx, &ExecuteRequest{Request: Request{Command: cmd, Args: args}, Progress: func(pg Progress) { seen += fmt.Sprintf("%+v", pg) }})
					require.NoError(t, err)
					seen += fmt.Sprintf("%+v %+v %+v %+v", pr.Plan, pr.Diagnostics, res, res.Parts)
					for _, part := range res.Parts {
						seen += fmt.Sprintf("%+v %+v %+v %s", part.Text, part.Table, part.File, part.File.contentOrEmpty())
					}
				}
				assert.NotContains(t, seen, "CANARY")
				assert.Contains(t, seen, "[REDACTED]")
			})
		}
	}
}

// What a handler logs is masked as its results are: a provider's error
// echoing a typed password, logged by the plugin's own code, or the
// target's key, never reach the bot's log.
func TestCallLogIsScrubbedOfSecrets(t *testing.T) {
	const targetSecret = "CANARY-log-target-71aa"
	const argSecret = "CANARY-log-password-3f0d"
	var buf bytes.Buffer
	p := New("logger", "1").SetLogger(slog.New(slog.NewJSONHandler(&buf, nil)))
	p.Secrets(String("api_key", "a key"))
	p.OnConfigure(func(ctx context.Context, t *TargetConfig) (any, error) { return nil, nil })
	p.Command("set", "Set a password").
		Params(String("user", "who").AsRequired(), String("pw", "the new password").AsSensitive()).
		Risk(RiskLow).
		Run(func(ctx context.Context, c *Call) (*Result, error) {
			apiErr := fmt.Errorf("API: password %s rejected (key %s)", c.Args.String("pw"), c.TargetConfig.Secrets["api_key"])
			c.Log.Warn("provider refused "+c.Args.String("pw"), "error", apiErr, "body", `{"pw":"`+c.Args.String("pw")+`"}`, "token", "plain-token-value",
				slog.Group("req", "echo", c.Args.String("pw")))
			c.Log.With("arg", c.Args.String("pw")).Info("again")
			return NewResult(), nil
		})
	ctx := context.Background()
	resp, err := p.Configure(ctx, &ConfigureRequest{Targets: []Target{{Name: "main", Secrets: map[string]string{"api_key": targetSecret}}}})
	require.NoError(t, err)
	require.Empty(t, resp.Diagnostics)
	_, err = p.Execute(ctx, &ExecuteRequest{Request: Request{ID: "r1", Command: "set", Args: Args{"user": "bob", "pw": argSecret}}})
	require.NoError(t, err)
	out := buf.String()
	assert.NotContains(t, out, argSecret)
	assert.NotContains(t, out, targetSecret)
	assert.NotContains(t, out, "plain-token-value", "a value under a sensitive key")
	assert.Contains(t, out, "provider refused [REDACTED]")
	assert.Contains(t, out, `"request_id":"r1"`)
}
