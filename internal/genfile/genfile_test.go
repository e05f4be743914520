package genfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteJSONIsStable(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	v := map[string]any{"z": 1, "a": []string{"x"}}
	require.NoError(t, WriteJSON(map[string]any{a: v, b: []int{1}}))
	got, err := os.ReadFile(a)
	require.NoError(t, err)
	assert.Equal(t, "{\n \"a\": [\n  \"x\"\n ],\n \"z\": 1\n}\n", string(got), "keys sorted, one-space indent, final newline")
	require.NoError(t, WriteJSON(map[string]any{a: v}))
	again, _ := os.ReadFile(a)
	assert.Equal(t, got, again, "the same bytes on every run")

	err = WriteJSON(map[string]any{filepath.Join(dir, "bad.json"): func() {}})
	assert.ErrorContains(t, err, "bad.json")
}
