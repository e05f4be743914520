package console

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/deskbot/deskbot/sdk"
)

// A progress line says each thing once.
func TestRenderProgressSaysEachThingOnce(t *testing.T) {
	var b strings.Builder
	RenderProgress(&b, sdk.Progress{State: "POWERING_OFF", Percent: 16, Message: "POWERING_OFF 16%"})
	RenderProgress(&b, sdk.Progress{State: sdk.ProgressQueued, Percent: -1, Message: "queued behind IONOS's request limit, about 40 s"})
	assert.Equal(t, "  ... POWERING_OFF 16%\n  ... queued behind IONOS's request limit, about 40 s\n", b.String())
}
