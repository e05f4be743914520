package slack

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
)

// replayWindow is how far a request's timestamp may be from now and still
// verify (slack-go's SecretsVerifier allows five minutes), with a minute's
// slack for clock skew between the bot's replicas and Slack.
const replayWindow = 6 * time.Minute

// replayGuard remembers the signature of every request it accepts for as
// long as Slack's signature window would let that request be replayed. It
// lives in memory: the signature check sits on the acknowledgement path,
// which Slack times, and a write to the shared store there was most of an
// ack's time under load. A replay after a restart or to another replica
// is stopped further on, by the durable claims on what the request
// carries (a command's trigger id, an interaction's action, an event id).
type replayGuard struct {
	mu sync.Mutex
	// seen holds signature digests by the minute of their request's
	// timestamp; a minute leaves as a whole once it is out of the window.
	seen      map[int64]map[[16]byte]struct{}
	lastPurge int64
}

func newReplayGuard() *replayGuard {
	return &replayGuard{seen: map[int64]map[[16]byte]struct{}{}}
}

// errSignatureForm is a signature header that is not "v0=" and hex.
var errSignatureForm = errors.New(`the signature is not "v0=" followed by hex`)

// signatureBytes decodes an X-Slack-Signature header to the MAC it
// carries. The verifier accepts hex in either case, so the header's text
// does not identify a request: "v0=ab…" and "v0=AB…" are the same
// signature, and a guard keyed on the text would let the second replay
// the first.
func signatureBytes(header string) ([]byte, error) {
	h, ok := strings.CutPrefix(header, "v0=")
	if !ok {
		return nil, errSignatureForm
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) == 0 {
		return nil, errSignatureForm
	}
	return b, nil
}

// first reports whether a request with this timestamp header and signature
// header is seen for the first time, and remembers it. Requests are known
// by the signature's decoded bytes, never its text (see signatureBytes); a
// header that does not decode is an error. A timestamp that does not parse
// (the verifier refuses those first) counts as now.
func (g *replayGuard) first(timestamp, signature string, now time.Time) (bool, error) {
	mac, err := signatureBytes(signature)
	if err != nil {
		return false, err
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		ts = now.Unix()
	}
	minute := ts / 60
	// The timestamp's text is signed as it is written, so it stays part
	// of the key as text.
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write([]byte{0})
	h.Write(mac)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	var key [16]byte
	copy(key[:], sum[:])

	g.mu.Lock()
	defer g.mu.Unlock()
	g.purge(now)
	bucket := g.seen[minute]
	if bucket == nil {
		bucket = map[[16]byte]struct{}{}
		g.seen[minute] = bucket
	}
	if _, dup := bucket[key]; dup {
		return false, nil
	}
	bucket[key] = struct{}{}
	return true, nil
}

// purge drops the minutes a replay can no longer verify in, at most once a
// minute.
func (g *replayGuard) purge(now time.Time) {
	current := now.Unix() / 60
	if current == g.lastPurge {
		return
	}
	g.lastPurge = current
	span := int64(replayWindow / time.Minute)
	for m := range g.seen {
		if m < current-span || m > current+span {
			delete(g.seen, m)
		}
	}
}

// size is how many signatures are remembered (for tests).
func (g *replayGuard) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, b := range g.seen {
		n += len(b)
	}
	return n
}
