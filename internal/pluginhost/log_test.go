package pluginhost

import (
	"bytes"
	"errors"
	"log/slog"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"

	"github.com/deskbot/deskbot/sdk/redact"
)

// A plugin the bot stops with SIGKILL is not logged as a crash; any other
// exit go-plugin reports as an error stays one.
func TestPluginExitLogLevels(t *testing.T) {
	var buf bytes.Buffer
	l := newSlogAdapter(slog.New(slog.NewTextHandler(&buf, nil)), "whm", hclog.Info, nil)
	l.Error("plugin process exited", "plugin", "/opt/bin/whm", "id", 42, "error", "signal: killed")
	l.Error("plugin process exited", "plugin", "/opt/bin/whm", "id", 43, "error", "exit status 2")
	out := buf.String()
	assert.Contains(t, out, `level=INFO msg="plugin process exited" plugin=whm path=/opt/bin/whm id=42 error="signal: killed"`)
	assert.Contains(t, out, `level=ERROR msg="plugin process exited" plugin=whm path=/opt/bin/whm id=43 error="exit status 2"`)
}

// A line a plugin logs past the SDK's masking (slog.Default, a library)
// loses its targets' secrets and the values under sensitive keys.
func TestPluginLogLinesAreMasked(t *testing.T) {
	const secret = "CANARY-host-log-52ad"
	var buf bytes.Buffer
	red := redact.New()
	red.AddSecret(secret)
	l := newSlogAdapter(slog.New(slog.NewTextHandler(&buf, nil)), "whm", hclog.Info, red)
	l.Warn("called with key "+secret, "url", "https://x/?k="+secret, "password", "hunter22", "err", errors.New("bad "+secret), "ok", true)
	out := buf.String()
	assert.NotContains(t, out, secret)
	assert.NotContains(t, out, "hunter22")
	assert.Contains(t, out, `msg="called with key [REDACTED]"`)
	assert.Contains(t, out, `ok=true`)
}
