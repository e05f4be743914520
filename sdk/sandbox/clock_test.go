package sandbox

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSteppedClockMovesOnlyOnTick(t *testing.T) {
	c := Stepped(250 * time.Millisecond)
	t0 := c.Now()
	assert.Equal(t, t0, c.Now(), "no tick, no time")
	c.Tick()
	c.Tick()
	assert.Equal(t, 500*time.Millisecond, c.Now().Sub(t0))

	c.Resume(t0) // earlier: ignored
	assert.Equal(t, 500*time.Millisecond, c.Now().Sub(t0))
	c.Resume(t0.Add(time.Hour))
	assert.Equal(t, time.Hour, c.Now().Sub(t0))
}

func TestWallClockFollowsTimeNow(t *testing.T) {
	c := Wall()
	before := time.Now()
	c.Tick()
	c.Resume(before.Add(time.Hour))
	now := c.Now()
	assert.False(t, now.Before(before))
	assert.True(t, now.Before(before.Add(time.Hour)), "Resume does not move the wall clock")
}

func TestParseStep(t *testing.T) {
	c, err := ParseStep("sim_time_per_call", "")
	require.NoError(t, err)
	assert.Nil(t, c, "empty: the wall clock")
	c, err = ParseStep("sim_time_per_call", "2s")
	require.NoError(t, err)
	t0 := c.Now()
	c.Tick()
	assert.Equal(t, 2*time.Second, c.Now().Sub(t0))
	for _, bad := range []string{"soon", "0s", "-1s", "5"} {
		_, err := ParseStep("sim_time_per_call", bad)
		assert.ErrorContains(t, err, `setting sim_time_per_call "`+bad+`" is not a positive duration`)
	}
}
