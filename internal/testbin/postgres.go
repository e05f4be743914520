package testbin

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// PostgresURL is the development and CI database.
const PostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresDSN creates a fresh schema for the test and returns a DSN that
// uses it; the schema is dropped afterwards. Without a reachable server
// the test is skipped, unless DESKBOT_REQUIRE_POSTGRES=1 (CI) makes that
// a failure.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("DESKBOT_TEST_POSTGRES")
	if base == "" {
		base = PostgresURL
	}
	db, err := sql.Open("pgx", base)
	if err == nil {
		// Long enough for a busy machine; a server that is down refuses
		// at once.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("DESKBOT_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL is required but unreachable: %v", err)
		}
		t.Skipf("PostgreSQL unreachable (%v); set DESKBOT_REQUIRE_POSTGRES=1 to fail instead", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		db.Close()
	})
	return base + "&search_path=" + schema
}
