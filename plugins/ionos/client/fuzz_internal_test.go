package client

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/deskbot/deskbot/plugins/ionos/catalog"
	"github.com/deskbot/deskbot/sdk/httpapi"
)

// FuzzAnswers: error bodies in any shape become an error message without
// the key; any JSON checked against an operation's schema gives a verdict,
// never a panic.
func FuzzAnswers(f *testing.F) {
	f.Add(404, []byte(`{"Type":"SERVER_NOT_FOUND","Message":"Server not found","Errors":null}`))
	f.Add(400, []byte(`{"type":"TECHNICAL_TARIFF_VIOLATION","message":"x","errors":{"required":"name"}}`))
	f.Add(401, []byte(`{"message":"bad key KEY-CANARY-998877"}`))
	f.Add(500, []byte(`<html>`))
	f.Add(202, []byte(`{"action":"POWER_OFF","method":"SOFTWARE"}`))
	const key = "KEY-CANARY-998877"
	c, err := New(Options{BaseURL: "http://127.0.0.1:1/v1", Token: key})
	if err != nil {
		f.Fatal(err)
	}
	op, _ := catalog.MustLoad().Get("put servers status action")
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		err := c.apiError(&httpapi.Response{Status: status, Body: body})
		// The body may hold pieces of anything; the whole key is what
		// must never come back.
		if strings.Contains(err.Error(), key) {
			t.Fatalf("the key in an error: %v", err)
		}
		var v any
		if json.Unmarshal(body, &v) == nil {
			_ = op.ValidateBody(v)
		}
	})
}
