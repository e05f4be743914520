package postgres

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A DSN that does not parse is refused without quoting it: it holds a
// password, or is one when a secret names the wrong key.
func TestABadDSNIsRefusedWithoutShowingIt(t *testing.T) {
	const canary = "CANARY-SECRET-1234"
	for _, dsn := range []string{
		canary,
		"host=db.example.net password = " + canary + " port=notnum",
		"postgres://deskbot:" + canary + "@db.example.net:notnum/deskbot",
	} {
		_, err := Open(context.Background(), dsn)
		require.Error(t, err, dsn)
		assert.NotContains(t, err.Error(), canary)
		assert.Contains(t, err.Error(), "not a PostgreSQL connection string")
	}
}
