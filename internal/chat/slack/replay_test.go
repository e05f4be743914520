package slack

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sig is a signature header: v0= and 32 bytes of hex made from n.
func sig(n int) string { return fmt.Sprintf("v0=%064x", n) }

// fresh is g.first for headers that decode.
func fresh(t *testing.T, g *replayGuard, ts, signature string, now time.Time) bool {
	t.Helper()
	ok, err := g.first(ts, signature, now)
	require.NoError(t, err)
	return ok
}

func TestReplayGuardAcceptsASignatureOnce(t *testing.T) {
	g := newReplayGuard()
	now := time.Unix(1_790_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)

	assert.True(t, fresh(t, g, ts, sig(0xaaaa), now))
	assert.False(t, fresh(t, g, ts, sig(0xaaaa), now.Add(4*time.Minute)), "the same request again, within the window")
	assert.True(t, fresh(t, g, ts, sig(0xbbbb), now), "another request of the same second")
	later := strconv.FormatInt(now.Unix()+1, 10)
	assert.True(t, fresh(t, g, later, sig(0xaaaa), now), "the same signature header with another timestamp is another request")
}

func TestReplayGuardKnowsASignatureByItsBytesNotItsText(t *testing.T) {
	g := newReplayGuard()
	now := time.Unix(1_790_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	s := sig(0xabcdef)

	assert.True(t, fresh(t, g, ts, s, now))
	assert.False(t, fresh(t, g, ts, "v0="+strings.ToUpper(strings.TrimPrefix(s, "v0=")), now), "upper-case hex is the same signature")
	for _, bad := range []string{"v0=xyz", "v0=", "V0=" + strings.TrimPrefix(s, "v0="), strings.TrimPrefix(s, "v0="), "v0=abc"} {
		ok, err := g.first(ts, bad, now)
		assert.False(t, ok, bad)
		assert.ErrorIs(t, err, errSignatureForm, bad)
	}
}

func TestReplayGuardForgetsWhatCanNoLongerVerify(t *testing.T) {
	g := newReplayGuard()
	start := time.Unix(1_790_000_000, 0)
	for i := 0; i < 600; i++ {
		at := start.Add(time.Duration(i) * time.Second)
		assert.True(t, fresh(t, g, strconv.FormatInt(at.Unix(), 10), sig(i), at))
	}
	// Ten minutes of requests: the first three or four minutes' can no
	// longer verify and are gone; the last six are kept, each still refused.
	assert.Less(t, g.size(), 600)
	assert.GreaterOrEqual(t, g.size(), 360)
	last := start.Add(599 * time.Second)
	assert.False(t, fresh(t, g, strconv.FormatInt(last.Unix()-300, 10), sig(299), last), "five minutes back is still refused")
	// Twenty minutes on, nothing of the first ten can verify any more.
	now := start.Add(20 * time.Minute)
	assert.True(t, fresh(t, g, strconv.FormatInt(now.Unix(), 10), sig(1_000_000), now))
	assert.Equal(t, 1, g.size(), "memory is bounded by the window, not by uptime")
}
