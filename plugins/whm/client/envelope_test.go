package client

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/whm/catalog"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func testClient(t *testing.T) *Client {
	t.Helper()
	c, err := New(Options{Host: "whm.example.net", Token: "TOKEN-CANARY-1234567890"})
	require.NoError(t, err)
	return c
}

// shape describes decoded data in a line: its kind and top-level keys.
func shape(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "no data"
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "data not JSON"
	}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) > 8 {
			keys = append(keys[:8], fmt.Sprintf("+%d", len(x)-8))
		}
		return "object{" + strings.Join(keys, ",") + "}"
	case []any:
		return fmt.Sprintf("list[%d]", len(x))
	}
	return fmt.Sprintf("%T", v)
}

// Every response sample of the reference goes through the envelope
// handling; the golden file records what each one yields.
func TestEveryResponseSampleThroughTheEnvelope(t *testing.T) {
	c := testClient(t)
	cat := catalog.MustLoad()
	var b strings.Builder
	var irregular []string
	for _, name := range cat.Names() {
		sample := cat.Sample(name)
		if len(sample) == 0 {
			fmt.Fprintf(&b, "%s: no sample\n", name)
			irregular = append(irregular, name+": the reference has no response sample")
			continue
		}
		res, err := c.parse(name, sample)
		if errors.Is(err, ErrNoMetadata) {
			// Not WHM API 1's envelope, so not a success.
			fmt.Fprintf(&b, "%s: refused, no metadata\n", name)
			irregular = append(irregular, name+": no metadata in the sample; such an answer is refused")
			continue
		}
		if err != nil {
			var ae *APIError
			require.True(t, errors.As(err, &ae), "%s: %v", name, err)
			fmt.Fprintf(&b, "%s: refused %q\n", name, ae.Reason)
			continue
		}
		line := name + ": ok " + shape(res.Data)
		var top map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(sample, &top), name)
		if _, ok := top["metadata"]; !ok {
			line += " (no metadata)"
			if len(top) > 0 {
				irregular = append(irregular, name+": no metadata; the whole answer is the data")
			} else {
				irregular = append(irregular, name+": the sample is {}")
			}
		} else if _, ok := top["data"]; !ok && len(top) > 1 {
			irregular = append(irregular, name+": fields beside metadata instead of inside data")
		}
		if len(res.Data) > 0 && strings.Contains(string(sample), `"payload"`) {
			var w struct {
				Data struct {
					Payload json.RawMessage `json:"payload"`
				} `json:"data"`
			}
			if json.Unmarshal(sample, &w) == nil && len(w.Data.Payload) > 0 {
				line += " (payload unwrapped)"
			}
		}
		if res.Metadata.Output.Raw != "" {
			line += " +raw"
		}
		if res.Metadata.Command != name {
			line += fmt.Sprintf(" (metadata.command says %q)", res.Metadata.Command)
			irregular = append(irregular, fmt.Sprintf("%s: metadata.command says %q", name, res.Metadata.Command))
		}
		b.WriteString(line + "\n")
	}
	for _, n := range cat.Irregular {
		if strings.Contains(n, "not valid JSON") {
			irregular = append(irregular, n)
		}
	}
	sort.Strings(irregular)
	got := b.String() + "\n# irregular samples\n" + strings.Join(irregular, "\n") + "\n"
	golden := "testdata/envelopes.golden"
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test -update once to write %s", golden)
	assert.Equal(t, string(want), got)
	assert.Equal(t, 594, strings.Count(b.String(), "\n"))
}

func TestEnvelopeRules(t *testing.T) {
	c := testClient(t)
	// Success is result 1, whatever the reason says.
	res, err := c.parse("passwd", []byte(`{"data":{"app":["ftp"]},"metadata":{"command":"passwd","reason":"Password changed for user “x”.","result":1,"version":1}}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"app":["ftp"]}`, string(res.Data))
	// Failure is result 0, even with reason OK.
	_, err = c.parse("suspendacct", []byte(`{"metadata":{"command":"suspendacct","reason":"OK","result":0}}`))
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "OK", ae.Reason)
	// data.payload is unwrapped.
	res, err = c.parse("parse_dns_zone", []byte(`{"data":{"payload":[{"line_index":1}]},"metadata":{"result":1}}`))
	require.NoError(t, err)
	assert.JSONEq(t, `[{"line_index":1}]`, string(res.Data))
	// A refusal's reason is scrubbed of secrets.
	_, err = c.parse("x", []byte(`{"metadata":{"result":0,"reason":"bad token TOKEN-CANARY-1234567890"}}`))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "TOKEN-CANARY")
	// Not JSON at all (a proxy's error page).
	_, err = c.parse("version", []byte(`<html>502 Bad Gateway</html>`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not JSON")
}

// A non-JSON answer is quoted in the error, scrubbed of the token before
// it is shortened, so even a token cut by the excerpt's end is hidden.
func TestNotJSONAnswerNeverQuotesTheToken(t *testing.T) {
	c := testClient(t)
	// The excerpt is 200 characters; with 160 or 170 before it, the token
	// straddles the cut.
	for _, pad := range []int{0, 160, 170} {
		body := strings.Repeat("<", pad) + "Authorization: whm root:TOKEN-CANARY-1234567890"
		_, err := c.parse("listaccts", []byte(body))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "not JSON")
		assert.NotContains(t, err.Error(), "TOKEN-", "pad %d", pad)
	}
}
