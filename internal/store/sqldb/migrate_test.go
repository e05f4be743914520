package sqldb

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"
)

var sqliteDialect = Dialect{
	Name:              "sqlite",
	Serialize:         func(context.Context, *sql.Tx, int64) error { return nil },
	IsUniqueViolation: func(error) bool { return false },
}

func openSQLite(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func versions(t *testing.T, db *sql.DB) []int64 {
	t.Helper()
	rows, err := db.Query(`SELECT version FROM schema_migrations ORDER BY version`)
	require.NoError(t, err)
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		require.NoError(t, rows.Scan(&v))
		out = append(out, v)
	}
	return out
}

// Two branches each add a migration: 004 lands first and is applied; when
// 003 lands later, a database already at 004 still gets it.
func TestMigrateAppliesEveryMigrationNotYetRecorded(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	fsys := fstest.MapFS{
		"m/001_init.sql":    {Data: []byte("CREATE TABLE a (x INTEGER)")},
		"m/002_more.sql":    {Data: []byte("-- a comment\nALTER TABLE a ADD COLUMN y INTEGER")},
		"m/004_cursors.sql": {Data: []byte("CREATE TABLE c (x INTEGER)")},
	}
	require.NoError(t, Migrate(ctx, db, sqliteDialect, fsys, "m"))
	assert.Equal(t, []int64{1, 2, 4}, versions(t, db))

	fsys["m/003_binding.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE b (x INTEGER); INSERT INTO b VALUES (3)")}
	require.NoError(t, Migrate(ctx, db, sqliteDialect, fsys, "m"))
	assert.Equal(t, []int64{1, 2, 3, 4}, versions(t, db))
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM b`).Scan(&n))
	assert.Equal(t, 1, n, "003 ran once")

	require.NoError(t, Migrate(ctx, db, sqliteDialect, fsys, "m"), "a third run has nothing to do")
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM b`).Scan(&n))
	assert.Equal(t, 1, n, "nothing ran twice")
}

func TestMigrateRefusesBadNamesAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	for name, fsys := range map[string]fstest.MapFS{
		"no number":   {"m/001_init.sql": {Data: []byte("CREATE TABLE a (x INTEGER)")}, "m/init.sql": {Data: []byte("CREATE TABLE z (x INTEGER)")}},
		"same number": {"m/001_init.sql": {Data: []byte("CREATE TABLE a (x INTEGER)")}, "m/001_other.sql": {Data: []byte("CREATE TABLE z (x INTEGER)")}},
	} {
		t.Run(name, func(t *testing.T) {
			db := openSQLite(t)
			assert.Error(t, Migrate(ctx, db, sqliteDialect, fsys, "m"))
			var n int
			require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name IN ('a', 'z')`).Scan(&n))
			assert.Equal(t, 0, n, "nothing was applied")
		})
	}
}

// A migration that fails takes the rest of its run with it: the database
// stays at the version it had, and the error names the file.
func TestMigrateFailureRollsBackTheRun(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	fsys := fstest.MapFS{"m/001_init.sql": {Data: []byte("CREATE TABLE a (x INTEGER)")}}
	require.NoError(t, Migrate(ctx, db, sqliteDialect, fsys, "m"))

	fsys["m/002_more.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE b (x INTEGER)")}
	fsys["m/003_broken.sql"] = &fstest.MapFile{Data: []byte("ALTER TABLE a ADD COLUMN y INTEGER; ALTER TABLE nope ADD COLUMN z INTEGER")}
	err := Migrate(ctx, db, sqliteDialect, fsys, "m")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "003_broken.sql")
	assert.Equal(t, []int64{1}, versions(t, db), "nothing of the run recorded")
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'`).Scan(&n))
	assert.Equal(t, 0, n, "002 rolled back with 003")
	_, err = db.Exec(`SELECT y FROM a`)
	assert.Error(t, err, "003's first statement rolled back")
}

// Files beside the migrations (their README) are not migrations.
func TestMigrateIgnoresOtherFiles(t *testing.T) {
	db := openSQLite(t)
	fsys := fstest.MapFS{
		"m/001_init.sql": {Data: []byte("CREATE TABLE a (x INTEGER)")},
		"m/README.md":    {Data: []byte("# Schema migrations")},
	}
	require.NoError(t, Migrate(context.Background(), db, sqliteDialect, fsys, "m"))
	assert.Equal(t, []int64{1}, versions(t, db))
}

func TestSplitStatements(t *testing.T) {
	tests := map[string]struct {
		body string
		want []string
	}{
		"plain": {
			body: "CREATE TABLE a (x INT);\nCREATE TABLE b (y INT);\n",
			want: []string{"CREATE TABLE a (x INT)", "CREATE TABLE b (y INT)"},
		},
		"semicolons in strings, identifiers and comments": {
			body: "-- a comment; not a statement\nINSERT INTO a VALUES ('x;y', 'it''s; fine');\nCREATE TABLE \"odd;name\" (z INT); /* one; two */\n",
			want: []string{
				"-- a comment; not a statement\nINSERT INTO a VALUES ('x;y', 'it''s; fine')",
				"CREATE TABLE \"odd;name\" (z INT)",
			},
		},
		"a dollar-quoted function body": {
			body: "CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN NEW.x := 1; RETURN NEW; END; $body$ LANGUAGE plpgsql;\nSELECT $$a;b$$;",
			want: []string{
				"CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN NEW.x := 1; RETURN NEW; END; $body$ LANGUAGE plpgsql",
				"SELECT $$a;b$$",
			},
		},
		"a positional parameter is not a dollar quote": {
			body: "SELECT $1; SELECT 2",
			want: []string{"SELECT $1", "SELECT 2"},
		},
		"only comments after the last statement": {
			body: "SELECT 1;\n-- the end\n/* really */\n",
			want: []string{"SELECT 1"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, splitStatements(tc.body))
		})
	}
}

// Every shipped migration splits into statements that each run: a
// semicolon inside a comment or string must not cut one in two.
func TestShippedMigrationsSplitCleanly(t *testing.T) {
	entries, err := migrations.ReadDir("migrations")
	require.NoError(t, err)
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".sql" {
			continue
		}
		body, err := migrations.ReadFile("migrations/" + e.Name())
		require.NoError(t, err)
		for _, stmt := range splitStatements(string(body)) {
			assert.False(t, onlyComments(stmt), "%s: a statement of comments only", e.Name())
		}
	}
	db := openSQLite(t)
	_, err = MigrateStatus(context.Background(), db, sqliteDialect, migrations, "migrations")
	require.NoError(t, err)
}
