package client

import (
	"errors"
	"strings"
	"testing"

	"github.com/deskbot/deskbot/plugins/whm/catalog"
)

// FuzzEnvelope: any answer is a result or an error, never a panic; a
// refusal's reason never carries the token; a batch answer splits safely.
func FuzzEnvelope(f *testing.F) {
	for _, fn := range []string{"listaccts", "createacct", "system_needs_reboot", "validate_exim_configuration_syntax", "massmodifyacct", "installssl"} {
		if sample := catalog.MustLoad().Sample(fn); len(sample) > 0 {
			f.Add([]byte(sample))
		}
	}
	f.Add([]byte(`{"metadata":{"result":0,"reason":"bad token TOKEN-CANARY-1234567890"}}`))
	f.Add([]byte(`{"data":{"result":[{"metadata":{"result":1}},{"metadata":{"result":0}}]},"metadata":{"result":1}}`))
	f.Add([]byte(`{"metadata":{"output":"raw string","messages":"one","warnings":[1,{"a":2}]}}`))
	f.Add([]byte(`null`))
	const token = "TOKEN-CANARY-1234567890"
	c, err := New(Options{Host: "whm.example.net", Token: token})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := c.parse("listaccts", body)
		if err != nil {
			// The answer may hold pieces of anything; the whole token is
			// what must never come back.
			if strings.Contains(err.Error(), token) {
				t.Fatalf("the token in an error: %v", err)
			}
			var ae *APIError
			_ = errors.As(err, &ae)
			return
		}
		var v any
		_ = res.Decode(&v)
		_, _, _ = c.Unbatch(res, []string{"a", "b"})
	})
}
