package client

import (
	"errors"
	"strings"
	"testing"

	"github.com/deskbot/deskbot/sdk/redact"
)

// FuzzDecode feeds the envelope decoder and the .plain parser whatever
// an API (or something pretending to be one) might send: they answer
// with data or an error, never a panic, and a secret never comes back in
// an error's text.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"success":true,"message":null,"data":[{"key":"abc","ip":"1.2.3.4"}]}`))
	f.Add([]byte(`{"success":false,"message":"Authorization failed for CANARY-secret"}`))
	f.Add([]byte(`{"success":true,"data":false}`))
	f.Add([]byte("success:true\nmessage:ok\nkey:value"))
	f.Add([]byte(`[1,2,3]`))
	f.Add([]byte(`{"success":"yes"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := redact.New()
		r.AddSecret("CANARY-secret")
		var out []map[string]any
		err := decodeEnvelope("/api/x.json", body, &out, r)
		var ae *APIError
		if errors.As(err, &ae) && strings.Contains(ae.Error(), "CANARY-secret") {
			t.Fatalf("a secret in an error: %v", err)
		}
		_, _ = ParsePlain(string(body))
		_ = isNullData(body)
		_ = messageOf(body)
	})
}
