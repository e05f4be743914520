package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/internal/store/sqlite"
	"github.com/deskbot/deskbot/internal/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bot.db"))
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	require.NoError(t, err)
	ok, err := s.Claim(ctx, "k", 1<<40, s0)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, s.Close())
	s, err = sqlite.Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	ok, err = s.Claim(ctx, "k", 1<<40, s0)
	require.NoError(t, err)
	require.False(t, ok, "the key survived a reopen")
}

// BenchmarkInboxAccept: how long a slash command's acknowledgement waits
// for its inbox row (see storetest.BenchInboxAccept).
func BenchmarkInboxAccept(b *testing.B) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bot.db"))
	require.NoError(b, err)
	defer s.Close()
	storetest.BenchInboxAccept(b, s)
}
