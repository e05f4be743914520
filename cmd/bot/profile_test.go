package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/testbin"
)

// A profile asked for and not written says so: whoever set the variable
// is waiting for the file, and a silent skip looked like a profile of
// nothing.
func TestAProfileThatCannotBeWrittenSaysSo(t *testing.T) {
	bin := testbin.Bot(t)
	nowhere := filepath.Join(t.TempDir(), "no", "such", "folder")
	cmd := exec.Command(bin, "version")
	cmd.Env = append(os.Environ(), "DESKBOT_CPUPROFILE="+filepath.Join(nowhere, "cpu.pprof"), "DESKBOT_MEMPROFILE="+filepath.Join(nowhere, "heap.pprof"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	assert.Contains(t, stderr.String(), "DESKBOT_CPUPROFILE: no CPU profile written")
	assert.Contains(t, stderr.String(), "DESKBOT_MEMPROFILE: no heap profile written")

	// One that can be written is, and nothing is said.
	dir := t.TempDir()
	cmd = exec.Command(bin, "version")
	cmd.Env = append(os.Environ(), "DESKBOT_CPUPROFILE="+filepath.Join(dir, "cpu.pprof"), "DESKBOT_MEMPROFILE="+filepath.Join(dir, "heap.pprof"))
	stderr.Reset()
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	assert.False(t, strings.Contains(stderr.String(), "profile written"), stderr.String())
	for _, f := range []string{"cpu.pprof", "heap.pprof"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Positive(t, st.Size(), f)
	}
}
