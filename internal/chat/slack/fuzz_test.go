package slack_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	slackchat "github.com/deskbot/deskbot/internal/chat/slack"
)

// FuzzSlackRequests sends the adapter signed bodies of every shape: it
// answers 200 or a 4xx, never fails or panics, whatever the payload.
func FuzzSlackRequests(f *testing.F) {
	f.Add(false, "command=%2Fexample&text=echo+text%3Dhi&user_id=U0ALICE01&channel_id=C1&team_id=T1&trigger_id=1.2.3&response_url=http%3A%2F%2F127.0.0.1%3A1%2Fr")
	f.Add(false, "command=%2Fexample&text=%22unclosed&user_id=&channel_id=")
	f.Add(true, `{"type":"block_actions","team":{"id":"T1"},"user":{"id":"U0CAROL01"},"channel":{"id":"C1"},"trigger_id":"t1","actions":[{"action_id":"approval_approve","value":"ANOSUCH1"}]}`)
	f.Add(true, `{"type":"view_submission","user":{"id":"U0CAROL01"},"view":{"id":"V1","callback_id":"approval_confirm","private_metadata":"ANOSUCH1","state":{"values":{"confirm_target":{"value":{"type":"plain_text_input","value":"x"}}}}}}`)
	f.Add(true, `{"type":"shortcut"}`)
	f.Add(true, `not json`)
	fx := newFixture(f, "")
	h := fx.adapter.Handler()
	f.Fuzz(func(t *testing.T, interaction bool, body string) {
		path := "/slack/commands"
		raw := []byte(body)
		if interaction {
			path = "/slack/interactions"
			raw = []byte(url.Values{"payload": {body}}.Encode())
		}
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", slackchat.Sign(secret, ts, raw))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s answered %d to %q", path, rec.Code, body)
		}
	})
}
