package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/store"
	"github.com/deskbot/deskbot/internal/store/postgres"
	"github.com/deskbot/deskbot/internal/store/storetest"
	"github.com/deskbot/deskbot/internal/testbin"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), testbin.PostgresDSN(t))
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// BenchmarkInboxAccept: how long a slash command's acknowledgement waits
// for its inbox row (see storetest.BenchInboxAccept).
func BenchmarkInboxAccept(b *testing.B) {
	s, err := postgres.Open(context.Background(), testbin.PostgresDSN(b))
	require.NoError(b, err)
	defer s.Close()
	storetest.BenchInboxAccept(b, s)
}
