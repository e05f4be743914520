package slack

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestReplayGuardAcceptsASignatureOnce(t *testing.T) {
	g := newReplayGuard()
	now := time.Unix(1_790_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)

	assert.True(t, g.first(ts, "v0=aaaa", now))
	assert.False(t, g.first(ts, "v0=aaaa", now.Add(4*time.Minute)), "the same request again, within the window")
	assert.True(t, g.first(ts, "v0=bbbb", now), "another request of the same second")
	later := strconv.FormatInt(now.Unix()+1, 10)
	assert.True(t, g.first(later, "v0=aaaa", now), "the same signature header with another timestamp is another request")
}

func TestReplayGuardForgetsWhatCanNoLongerVerify(t *testing.T) {
	g := newReplayGuard()
	start := time.Unix(1_790_000_000, 0)
	for i := 0; i < 600; i++ {
		at := start.Add(time.Duration(i) * time.Second)
		assert.True(t, g.first(strconv.FormatInt(at.Unix(), 10), "v0="+strconv.Itoa(i), at))
	}
	// Ten minutes of requests: the first three or four minutes' can no
	// longer verify and are gone; the last six are kept, each still refused.
	assert.Less(t, g.size(), 600)
	assert.GreaterOrEqual(t, g.size(), 360)
	last := start.Add(599 * time.Second)
	assert.False(t, g.first(strconv.FormatInt(last.Unix()-300, 10), "v0=299", last), "five minutes back is still refused")
	// Twenty minutes on, nothing of the first ten can verify any more.
	now := start.Add(20 * time.Minute)
	assert.True(t, g.first(strconv.FormatInt(now.Unix(), 10), "v0=new", now))
	assert.Equal(t, 1, g.size(), "memory is bounded by the window, not by uptime")
}
