package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/internal/store/sqldb"
	"github.com/deskbot/deskbot/internal/store/sqldb/sqldbtest"
	"github.com/deskbot/deskbot/internal/store/sqlite"
)

var backend = sqldbtest.Backend{
	Dialect: sqlite.Dialect,
	Fresh: func(t *testing.T) (*sql.DB, func(...sqldb.Option) (*sqldb.DB, error)) {
		path := filepath.Join(t.TempDir(), "bot.db")
		raw, err := sql.Open("sqlite", sqlite.DSN(path))
		require.NoError(t, err)
		t.Cleanup(func() { raw.Close() })
		return raw, func(opts ...sqldb.Option) (*sqldb.DB, error) { return sqlite.Open(context.Background(), path, opts...) }
	},
}

func TestUpgradeFromEveryVersion(t *testing.T) { sqldbtest.Upgrades(t, backend) }

func TestOpensDatabaseMigratedByNewerVersion(t *testing.T) { sqldbtest.RollingUpgrade(t, backend) }

func TestConcurrentOpensMigrateOnce(t *testing.T) {
	t.Run("fresh", func(t *testing.T) { sqldbtest.ConcurrentOpen(t, backend, 0, 4) })
	t.Run("from version 3", func(t *testing.T) { sqldbtest.ConcurrentOpen(t, backend, 3, 4) })
}

const childEnv = "DESKBOT_TEST_SQLITE_MIGRATE_CHILD"

// Two bot processes starting on one file (a restart overlapping the old
// process, or two services pointed at the same data directory): both
// open it, neither fails with "database is locked", and each migration
// is applied by one of them.
func TestProcessesOpeningOneFileMigrateOnce(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		// The child: wait for the parent's go (stdin closing), open, and
		// report what this process applied.
		_, _ = io.Copy(io.Discard, os.Stdin)
		s, err := sqlite.Open(context.Background(), path)
		if err != nil {
			fmt.Printf("child-error: %v\n", err)
			return
		}
		defer s.Close()
		var vs []string
		for _, v := range s.Schema().Applied {
			vs = append(vs, strconv.FormatInt(v, 10))
		}
		fmt.Printf("child-applied: [%s]\n", strings.Join(vs, " "))
		return
	}

	path := filepath.Join(t.TempDir(), "bot.db")
	const n = 3
	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   strings.Builder
	}
	children := make([]*child, n)
	for i := range children {
		c := &child{cmd: exec.Command(os.Args[0], "-test.run=^TestProcessesOpeningOneFileMigrateOnce$", "-test.count=1")}
		c.cmd.Env = append(os.Environ(), childEnv+"="+path)
		c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
		var err error
		c.stdin, err = c.cmd.StdinPipe()
		require.NoError(t, err)
		require.NoError(t, c.cmd.Start())
		children[i] = c
	}
	for _, c := range children {
		require.NoError(t, c.stdin.Close())
	}
	var applied []int64
	for i, c := range children {
		require.NoError(t, c.cmd.Wait(), "child %d: %s", i, c.out.String())
		out := c.out.String()
		require.NotContains(t, out, "child-error", "child %d", i)
		_, rest, ok := strings.Cut(out, "child-applied: [")
		require.True(t, ok, "child %d reported: %s", i, out)
		list, _, _ := strings.Cut(rest, "]")
		for _, f := range strings.Fields(list) {
			v, err := strconv.ParseInt(f, 10, 64)
			require.NoError(t, err)
			applied = append(applied, v)
		}
	}
	sort.Slice(applied, func(i, j int) bool { return applied[i] < applied[j] })
	assert.Equal(t, sqldbtest.Versions(t), applied, "each migration applied by exactly one process")

	raw, err := sql.Open("sqlite", sqlite.DSN(path))
	require.NoError(t, err)
	defer raw.Close()
	want := map[int64]int{}
	for _, v := range sqldbtest.Versions(t) {
		want[v] = 1
	}
	assert.Equal(t, want, sqldbtest.Recorded(t, raw))
}

// Concurrent readers and a writer need WAL mode; Open sets it on the
// file, where it stays.
func TestOpenLeavesFileInWALMode(t *testing.T) {
	raw, open := backend.Fresh(t)
	s, err := open()
	require.NoError(t, err)
	require.NoError(t, s.Close())
	var mode string
	require.NoError(t, raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
	assert.Equal(t, "wal", mode)
}
