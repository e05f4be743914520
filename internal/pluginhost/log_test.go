package pluginhost

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
)

// A plugin the bot stops with SIGKILL is not logged as a crash; any other
// exit go-plugin reports as an error stays one.
func TestPluginExitLogLevels(t *testing.T) {
	var buf bytes.Buffer
	l := newSlogAdapter(slog.New(slog.NewTextHandler(&buf, nil)), "whm", hclog.Info)
	l.Error("plugin process exited", "plugin", "/opt/bin/whm", "id", 42, "error", "signal: killed")
	l.Error("plugin process exited", "plugin", "/opt/bin/whm", "id", 43, "error", "exit status 2")
	out := buf.String()
	assert.Contains(t, out, `level=INFO msg="plugin process exited" plugin=whm path=/opt/bin/whm id=42 error="signal: killed"`)
	assert.Contains(t, out, `level=ERROR msg="plugin process exited" plugin=whm path=/opt/bin/whm id=43 error="exit status 2"`)
}
