package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"

	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/deskbot/deskbot/internal/store"
)

type inboxReq struct {
	it   store.InboxItem
	done chan inboxResult
}

type inboxResult struct {
	added bool
	err   error
}

// InboxAdd implements store.Inbox. Slack waits on the acknowledgement
// that follows, so adds that arrive together are written by one
// statement: under load a batch costs one commit, not one each.
func (s *DB) InboxAdd(ctx context.Context, it store.InboxItem) (bool, error) {
	if err := storable("key", it.Key, "owner", it.Owner, "state", string(it.State), "payload", it.Payload); err != nil {
		return false, err
	}
	req := &inboxReq{it: it, done: make(chan inboxResult, 1)}
	res, err := submit(s, ctx, s.inboxAdds, req, req.done)
	if err != nil {
		return false, err
	}
	return res.added, res.err
}

// storable checks, before a request joins a batch, that each value
// (given after its name) is text every database stores: PostgreSQL
// refuses invalid UTF-8 and NUL bytes, failing the statement, and with
// it every other request of the batch. Values are not quoted: a payload
// holds a capability.
func storable(nameValues ...string) error {
	for i := 0; i+1 < len(nameValues); i += 2 {
		if v := nameValues[i+1]; !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("inbox: the %s is not text the store can keep (invalid UTF-8 or a NUL byte)", nameValues[i])
		}
	}
	return nil
}

// inboxTx inserts a batch in one statement; the keys it returns are the
// rows it added, the others were there already.
func (s *DB) inboxTx(batch []*inboxReq) {
	q, args, first := inboxInsert(batch)
	out := make([]inboxResult, len(batch))
	var err error
	for try := 1; ; try++ {
		for i := range out {
			out[i].added = false
		}
		err = s.insertInbox(q, args, func(k string) { out[first[k]].added = true })
		if err == nil || s.d.IsDeadlock == nil || !s.d.IsDeadlock(err) || try == 3 {
			break
		}
		// The database failed the statement to break a deadlock (with
		// a process whose rows were not in key order, an older
		// version): nothing of it was applied, so run it again.
	}
	answerInbox(batch, out, err)
}

// inboxInsert is the statement that adds a batch: one row a key, the
// key's first delivery in the batch (first maps each key to it). Two
// deliveries of one key in one batch: the first one counts, the later
// ones are duplicates (the statement would add the key once and return
// it once, for both).
func inboxInsert(batch []*inboxReq) (string, []any, map[string]int) {
	first := map[string]int{}
	var rows []*inboxReq
	for i, r := range batch {
		if _, dup := first[r.it.Key]; dup {
			continue
		}
		first[r.it.Key] = i
		rows = append(rows, r)
	}
	// In key order: a retried command reaches several replicas, and two
	// of them inserting the same keys in different orders each wait for
	// the other's uncommitted row (PostgreSQL breaks the deadlock by
	// failing one statement, every add of it).
	sort.Slice(rows, func(i, j int) bool { return rows[i].it.Key < rows[j].it.Key })
	var q strings.Builder
	q.WriteString(`INSERT INTO inbox (key, state, owner, lease_until, received_at, updated_at, payload) VALUES `)
	args := make([]any, 0, 7*len(rows))
	for i, r := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		n := len(args)
		q.WriteString("(")
		for j := 1; j <= 7; j++ {
			if j > 1 {
				q.WriteString(",")
			}
			q.WriteString("$" + strconv.Itoa(n+j))
		}
		q.WriteString(")")
		it := r.it
		args = append(args, it.Key, string(it.State), it.Owner, micros(it.LeaseUntil), micros(it.ReceivedAt), micros(it.ReceivedAt), it.Payload)
	}
	q.WriteString(` ON CONFLICT (key) DO NOTHING RETURNING key`)
	return q.String(), args, first
}

func answerInbox(batch []*inboxReq, out []inboxResult, err error) {
	for i, r := range batch {
		if err != nil {
			r.done <- inboxResult{err: err}
		} else {
			r.done <- out[i]
		}
	}
}

// insertInbox runs one batch's insert, calling added with each key it
// added.
func (s *DB) insertInbox(q string, args []any, added func(string)) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	release, err := s.urgentTurn(ctx)
	if err != nil {
		return err
	}
	defer release()
	// One statement, no explicit transaction: each round trip to the
	// database is time the ack waits.
	var res *sql.Rows
	if s.d.ProcessDurable == "" {
		st, err := s.stmt(ctx, q)
		if err != nil {
			return err
		}
		res, err = st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
	} else {
		c, err := s.durableConn(ctx)
		if err != nil {
			return err
		}
		res, err = c.QueryContext(ctx, q, args...)
		if err != nil {
			s.dropDurableConn()
			return err
		}
	}
	defer res.Close()
	for res.Next() {
		var k string
		if err := res.Scan(&k); err != nil {
			return err
		}
		added(k)
	}
	return res.Err()
}

// durableConn returns the inbox committer's connection, set up with the
// dialect's ProcessDurable setting.
func (s *DB) durableConn(ctx context.Context) (*sql.Conn, error) {
	if s.inboxConn != nil {
		return s.inboxConn, nil
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := c.ExecContext(ctx, s.d.ProcessDurable); err != nil {
		discard(c)
		return nil, err
	}
	s.inboxConn = c
	return c, nil
}

// dropDurableConn closes the committer's connection after an error; the
// next batch opens another.
func (s *DB) dropDurableConn() {
	if s.inboxConn != nil {
		discard(s.inboxConn)
		s.inboxConn = nil
	}
}

// discard closes c for good: with its session setting it must never go
// back to the pool for other statements.
func discard(c *sql.Conn) {
	_ = c.Raw(func(any) error { return driver.ErrBadConn })
	_ = c.Close()
}

// heldRows is the condition of the inbox's partial indexes (migration
// 012), written out as they are: neither database uses a partial index
// for a condition given as parameters.
const heldRows = `state IN ('` + string(store.InboxReceived) + `', '` + string(store.InboxStarted) + `')`

type moveReq struct {
	key, owner string
	from, to   store.InboxState
	at         time.Time
	scrub      bool
	done       chan moveResult
}

type moveResult struct {
	moved bool
	err   error
}

// InboxMove implements store.Inbox. Every command moves twice (started,
// then done), so moves that arrive together share a transaction.
func (s *DB) InboxMove(ctx context.Context, key, owner string, from, to store.InboxState, at time.Time, scrub bool) (bool, error) {
	if err := storable("key", key, "owner", owner, "state", string(from), "state", string(to)); err != nil {
		return false, err
	}
	req := &moveReq{key: key, owner: owner, from: from, to: to, at: at, scrub: scrub, done: make(chan moveResult, 1)}
	res, err := submit(s, ctx, s.inboxMoves, req, req.done)
	if err != nil {
		return false, err
	}
	return res.moved, res.err
}

// moveTx applies a batch of moves in one transaction, each a conditional
// update of its own: a move whose item is not in its from state (or not
// its owner's) changes nothing and reports false.
func (s *DB) moveTx(batch []*moveReq) {
	var out []moveResult
	var err error
	for try := 1; ; try++ {
		out, err = batchTx(s, batch, s.moveIn)
		if err == nil || s.d.IsDeadlock == nil || !s.d.IsDeadlock(err) || try == 3 {
			break
		}
		// The database rolled the batch back to break a deadlock with
		// another process: nothing of it was applied, so run it again.
	}
	answerMoves(batch, out, err)
}

// moveIn applies a batch of moves in tx, in key order, so that batches
// lock rows in the order other processes' do.
func (s *DB) moveIn(ctx context.Context, tx *sql.Tx, batch []*moveReq) ([]moveResult, error) {
	order := make([]int, len(batch))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return batch[order[a]].key < batch[order[b]].key })
	var sts [2]*sql.Stmt
	for i, q := range []string{
		`UPDATE inbox SET state = $1, updated_at = $2 WHERE key = $3 AND owner = $4 AND state = $5`,
		`UPDATE inbox SET state = $1, updated_at = $2, payload = '' WHERE key = $3 AND owner = $4 AND state = $5`,
	} {
		st, err := s.stmt(ctx, q)
		if err != nil {
			return nil, err
		}
		sts[i] = tx.StmtContext(ctx, st)
	}
	out := make([]moveResult, len(batch))
	for _, i := range order {
		r := batch[i]
		st := sts[0]
		if r.scrub {
			st = sts[1]
		}
		res, err := st.ExecContext(ctx, string(r.to), micros(r.at), r.key, r.owner, string(r.from))
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		out[i].moved = n == 1
	}
	return out, nil
}

func answerMoves(batch []*moveReq, out []moveResult, err error) {
	for i, r := range batch {
		if err != nil {
			r.done <- moveResult{err: err}
		} else {
			r.done <- out[i]
		}
	}
}

// InboxRenew implements store.Inbox.
//
// It waits for no row: a row another transaction holds (a batch of moves
// of this process, stuck behind another replica's lock, or the purge) is
// left for the next renewal, rather than have the lease of every other
// command here lapse meanwhile, and another replica take commands still
// running here for dead ones. The rows it does lock, it locks in key
// order, as a batch of moves and the purge do.
func (s *DB) InboxRenew(ctx context.Context, owner string, until time.Time) error {
	release, err := s.turn(ctx)
	if err != nil {
		return err
	}
	defer release()
	_, err = s.db.ExecContext(ctx, `UPDATE inbox SET lease_until = $1 WHERE key IN (SELECT key FROM inbox
		WHERE owner = $2 AND `+heldRows+` AND lease_until < $1 ORDER BY key`+s.d.ForUpdate+s.d.SkipLocked+`)
		AND owner = $2 AND `+heldRows+` AND lease_until < $1`,
		micros(until), owner)
	return err
}

// InboxGet implements store.Inbox.
func (s *DB) InboxGet(ctx context.Context, key string) (store.InboxItem, error) {
	items, err := s.scanInbox(ctx, `SELECT key, state, owner, lease_until, received_at, updated_at, payload FROM inbox WHERE key = $1`, key)
	if err != nil {
		return store.InboxItem{}, err
	}
	if len(items) == 0 {
		return store.InboxItem{}, fmt.Errorf("inbox item: %w", store.ErrNotFound)
	}
	return items[0], nil
}

// InboxLapsed implements store.Inbox.
func (s *DB) InboxLapsed(ctx context.Context, now time.Time, limit int) ([]store.InboxItem, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.scanInbox(ctx, `SELECT key, state, owner, lease_until, received_at, updated_at, payload FROM inbox
		WHERE `+heldRows+` AND lease_until <= $1 ORDER BY received_at, key LIMIT $2`,
		micros(now), limit)
}

func (s *DB) scanInbox(ctx context.Context, q string, args ...any) ([]store.InboxItem, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.InboxItem
	for rows.Next() {
		var it store.InboxItem
		var state string
		var lease, recv, upd int64
		if err := rows.Scan(&it.Key, &state, &it.Owner, &lease, &recv, &upd, &it.Payload); err != nil {
			return nil, err
		}
		it.State, it.LeaseUntil, it.ReceivedAt, it.UpdatedAt = store.InboxState(state), fromMicros(lease), fromMicros(recv), fromMicros(upd)
		out = append(out, it)
	}
	return out, rows.Err()
}

// InboxTakeOver implements store.Inbox: one conditional update, so of
// replicas sweeping at once only one takes an item.
func (s *DB) InboxTakeOver(ctx context.Context, it store.InboxItem, owner string, to store.InboxState, now, lease time.Time, scrub bool) (bool, error) {
	q := `UPDATE inbox SET state = $1, owner = $2, lease_until = $3, updated_at = $4`
	if scrub {
		q += `, payload = ''`
	}
	q += ` WHERE key = $5 AND owner = $6 AND state = $7 AND lease_until <= $4`
	release, err := s.turn(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	res, err := s.db.ExecContext(ctx, q, string(to), owner, micros(lease), micros(now), it.Key, it.Owner, string(it.State))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// InboxPurge implements store.Inbox.
func (s *DB) InboxPurge(ctx context.Context, cutoff time.Time) (int, error) {
	release, err := s.turn(ctx)
	if err != nil {
		return 0, err
	}
	defer release()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM inbox WHERE received_at < $1 AND state NOT IN ($2, $3)`,
		micros(cutoff), string(store.InboxReceived), string(store.InboxStarted))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	// What is still held that long after it came cannot be answered any
	// more (its response_url lapsed); its text need not stay either.
	// These rows are held: their owner may be moving or renewing them,
	// locking them in key order, and so must this.
	if _, err := tx.ExecContext(ctx, `UPDATE inbox SET payload = '' WHERE key IN (SELECT key FROM inbox
		WHERE received_at < $1 AND payload <> '' ORDER BY key`+s.d.ForUpdate+`) AND received_at < $1`, micros(cutoff)); err != nil {
		return 0, err
	}
	return int(n), tx.Commit()
}
