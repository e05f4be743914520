package slack

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Slack's published example ("Verifying requests from Slack").
const (
	vectorSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	vectorTimestamp = "1531420618"
	vectorBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	vectorSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func vectorRequest(secretTS, sig, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
	r.Header.Set("X-Slack-Request-Timestamp", secretTS)
	r.Header.Set("X-Slack-Signature", sig)
	return r
}

// atVectorTime runs f with the clock at Slack's example timestamp plus
// offset: synctest's fake clock starts in 2000 and sleeping moves it.
func atVectorTime(t *testing.T, offset time.Duration, f func()) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(time.Until(time.Unix(1531420618, 0).Add(offset)))
		f()
	})
}

func TestPublishedSigningExampleVerifies(t *testing.T) {
	atVectorTime(t, 30*time.Second, func() {
		body, err := Verify(vectorRequest(vectorTimestamp, vectorSignature, vectorBody), vectorSecret, 64<<10)
		require.NoError(t, err)
		assert.Equal(t, vectorBody, string(body))
	})
}

func TestAnyChangeBreaksTheSignature(t *testing.T) {
	cases := map[string]struct {
		secret, ts, sig, body string
		offset                time.Duration
	}{
		"other secret":       {vectorSecret + "x", vectorTimestamp, vectorSignature, vectorBody, 0},
		"other body":         {vectorSecret, vectorTimestamp, vectorSignature, strings.Replace(vectorBody, "text=", "text=x", 1), 0},
		"other timestamp":    {vectorSecret, "1531420619", vectorSignature, vectorBody, 0},
		"other signature":    {vectorSecret, vectorTimestamp, strings.Replace(vectorSignature, "a2", "b2", 1), vectorBody, 0},
		"no signature":       {vectorSecret, vectorTimestamp, "", vectorBody, 0},
		"older than 5 min":   {vectorSecret, vectorTimestamp, vectorSignature, vectorBody, 5*time.Minute + time.Second},
		"from the future":    {vectorSecret, vectorTimestamp, vectorSignature, vectorBody, -5*time.Minute - time.Second},
		"timestamp not a ts": {vectorSecret, "yesterday", vectorSignature, vectorBody, 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			atVectorTime(t, tc.offset, func() {
				_, err := Verify(vectorRequest(tc.ts, tc.sig, tc.body), tc.secret, 64<<10)
				assert.Error(t, err)
			})
		})
	}
}

func TestBodyLimit(t *testing.T) {
	atVectorTime(t, 0, func() {
		_, err := Verify(vectorRequest(vectorTimestamp, vectorSignature, vectorBody), vectorSecret, 100)
		assert.ErrorIs(t, err, ErrTooLarge)
	})
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"ipl check 203.0.113.7":                          "ipl check 203.0.113.7",
		"account info <http://example.com|example.com>":  "account info example.com",
		"account create bob <mailto:a@b.com|a@b.com>":    "account create bob a@b.com",
		"fetch <https://example.com/x?a=1&amp;b=2>":      "fetch https://example.com/x?a=1&b=2",
		"note=&quot;x&quot; a &amp;&amp; b &lt;c&gt;":    "note=&quot;x&quot; a && b <c>",
		"whoami <@U0ALICE01|alice> in <#C0SUPPORT|desk>": "whoami U0ALICE01 in C0SUPPORT",
		"ping <!subteam^S0LEADS|@leads>":                 "ping @leads",
	} {
		assert.Equal(t, want, Unescape(in), in)
	}
}
