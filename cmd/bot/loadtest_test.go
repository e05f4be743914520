package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseRamp(t *testing.T) {
	got, err := parseRamp("500:2000:250")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{500, 750, 1000, 1250, 1500, 1750, 2000}; !slices.Equal(got, want) {
		t.Errorf("500:2000:250 = %v, want %v", got, want)
	}
	if got, _ := parseRamp("100:150:100"); !slices.Equal(got, []int{100}) {
		t.Errorf("a step past TO is not sent: %v", got)
	}
	for in, want := range map[string]string{
		"500:2000":      "want FROM:TO:STEP",
		"500:x:250":     `"x" is not a positive whole number`,
		"500:2000:0":    `"0" is not a positive`,
		"2000:500:250":  "TO (500) is below FROM (2000)",
		"1:100000:1000": "100 steps; at most 50",
	} {
		if _, err := parseRamp(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseRamp(%q) = %v, want an error saying %q", in, err, want)
		}
	}
}

// A step holds only with every command acked in time and answered, at
// the rate asked.
func TestKneeStepJudgement(t *testing.T) {
	lt := &loadtest{kneeAck: 5 * time.Millisecond}
	ok := func(ack time.Duration) *sample {
		return &sample{status: 200, done: true, ack: ack, delivered: 10 * time.Millisecond}
	}
	fill := func(extra ...*sample) {
		lt.samples = nil
		for range 200 {
			lt.samples = append(lt.samples, ok(time.Millisecond))
		}
		lt.samples = append(lt.samples, extra...)
	}
	fill()
	if st := lt.step(200, time.Second); !st.Passed {
		t.Errorf("a clean step broke: %s", st.Why)
	}
	fill(&sample{status: 200, ack: time.Millisecond})
	if st := lt.step(200, time.Second); st.Passed || st.Lost != 1 || !strings.Contains(st.Why, "1 commands lost") {
		t.Errorf("a lost command: %+v", st)
	}
	fill(&sample{status: 503})
	if st := lt.step(200, time.Second); st.Passed || st.HTTPErrors != 1 {
		t.Errorf("an HTTP error: %+v", st)
	}
	fill(ok(9*time.Millisecond), ok(9*time.Millisecond), ok(9*time.Millisecond), ok(9*time.Millisecond), ok(9*time.Millisecond))
	if st := lt.step(200, time.Second); st.Passed || !strings.Contains(st.Why, "ack p99") {
		t.Errorf("a slow tail: %+v", st)
	}
	fill()
	if st := lt.step(400, time.Second); st.Passed || !strings.Contains(st.Why, "could not keep up") {
		t.Errorf("half the rate asked: %+v", st)
	}
}
