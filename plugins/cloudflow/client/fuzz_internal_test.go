package client

import (
	"encoding/json"
	"testing"
)

// FuzzAnswers: unwrapping and error reading survive any body.
func FuzzAnswers(f *testing.F) {
	f.Add([]byte(`{"virtual_machine":{"id":1,"initial_root_password":"x"}}`))
	f.Add([]byte(`[{"transaction":{"id":1,"status":"running"}}]`))
	f.Add([]byte(`{"errors":{"base":["locked"],"memory":["too small"]}}`))
	f.Add([]byte(`{"errors":["a","b"]}`))
	f.Add([]byte(`{"error":"no"}`))
	f.Add([]byte(`[{"a":1,"b":2}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out := Unwrap(body)
		if json.Valid(body) && !json.Valid(out) {
			t.Fatalf("unwrapping valid JSON gave invalid JSON: %q → %q", body, out)
		}
		_ = errorMessages(body)
		var txs []Transaction
		_ = json.Unmarshal(out, &txs)
	})
}
