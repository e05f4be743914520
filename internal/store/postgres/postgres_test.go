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

func TestConcurrentMigrationsAgree(t *testing.T) {
	dsn := testbin.PostgresDSN(t)
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			s, err := postgres.Open(context.Background(), dsn)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < 4; i++ {
		require.NoError(t, <-errs)
	}
}
