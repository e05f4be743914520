package console_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/chat/console"
	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/pluginhost"
	"github.com/deskbot/deskbot/plugins/example/provider"
	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/redact"
)

func TestSecretLinesAreThoseTheHistoryMustNotKeep(t *testing.T) {
	local, err := pluginhost.NewLocal(context.Background(), provider.New(), pluginhost.Config{Name: "example",
		Targets: []sdk.Target{{Name: "sandbox", Sandbox: true, StateDir: filepath.Join(t.TempDir(), "state")}}})
	require.NoError(t, err)
	red := redact.New()
	red.AddSecret("configured-api-key-123")
	s := console.SecretLines{Providers: engine.StaticRegistry{"example": local}, Redactor: red}

	for _, line := range []string{
		"/example secret check value=" + canary,            // a sensitive parameter, by name
		"/example secret check --value " + canary,          // the same as a flag
		"/example secret check value=\"" + canary + "\"",   // quoted
		"/example secret check value=\"" + canary,          // an unclosed quote: does not parse
		"/example secret check value=" + canary + " x=1",   // does not parse either
		"/example echo configured-api-key-123",             // a configured secret
		"/whm call createacct password=hunter22",           // a secret key name, on a provider not here
		"/example echo token=abc",                          // a secret key name in a value
		`/ops can-i "/example secret check value=x"`,       // a command inside a command
		"/ops plan /example secret set n1 value=" + canary, // the same, unquoted
		"/OPS Plan /example secret check --value " + canary,
		"/ops can-i /example secret check value=" + canary,
		`/ops plan /example secret check value="` + canary, // unclosed
		"/example secret check " + canary,                  // a secret without its name: a word too many
		"/example secret set n1 " + canary,
		"/example greet alice " + canary,
		"/exmaple secret check " + canary,         // a provider not here: nothing tells its secrets
		"/whm account suspend demo1 reason=abuse", // the same, however harmless it looks
	} {
		assert.True(t, s.Holds(line), "%s holds a secret", line)
	}
	for _, line := range []string{
		"/example echo hello",
		"/example greet alice",
		"/example secret check",  // nothing given yet
		"/example secret set n1", // nothing secret given yet
		"/ops approve A12345",
		"/ops plan /example greet alice",
		"/ops deny A12345 reason=not during the freeze",
		":as carol",
	} {
		assert.False(t, s.Holds(line), "%s holds no secret", line)
	}
}
