package sdk

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// work is what PlanDigest hashes.
type work struct {
	risk  Risk
	steps []PlanStep
	facts []string
}

func (w work) digest() string { return PlanDigest(w.risk, w.steps, w.facts) }

func (w work) clone() work {
	c := work{risk: w.risk, steps: slices.Clone(w.steps), facts: slices.Clone(w.facts)}
	return c
}

// text is a short random string from an alphabet with JSON's and URLs'
// awkward characters, so that escaping and field boundaries are tested.
func text(r *rand.Rand) string {
	const alphabet = `ab/?=&"\{}[],:. 0`
	n := r.IntN(6)
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func randomWork(r *rand.Rand) work {
	w := work{risk: Risk(1 + r.IntN(4))}
	for range r.IntN(4) {
		w.steps = append(w.steps, PlanStep{Description: text(r), Method: text(r), Endpoint: text(r), Body: text(r)})
	}
	for range r.IntN(3) {
		w.facts = append(w.facts, text(r))
	}
	return w
}

// mutate changes one thing the digest covers, and says what.
func mutate(r *rand.Rand, w work) (work, string) {
	m := w.clone()
	for {
		switch r.IntN(8) {
		case 0:
			m.risk = Risk(1 + (int(m.risk)+r.IntN(3))%4)
			if m.risk != w.risk {
				return m, "risk"
			}
		case 1, 2, 3:
			if len(m.steps) == 0 {
				continue
			}
			i := r.IntN(len(m.steps))
			before := m.steps[i]
			switch r.IntN(3) {
			case 0:
				m.steps[i].Method += "x"
			case 1:
				m.steps[i].Endpoint = text(r) + "/"
			case 2:
				// Move a character across a field boundary: the same
				// characters in all, another split.
				if s := m.steps[i].Endpoint + m.steps[i].Body; len(s) > 0 {
					k := r.IntN(len(s) + 1)
					m.steps[i].Endpoint, m.steps[i].Body = s[:k], s[k:]
				}
			}
			if m.steps[i] != before {
				return m, "a step"
			}
		case 4:
			m.steps = append(m.steps, PlanStep{Method: "GET", Endpoint: text(r)})
			return m, "a step added"
		case 5:
			if len(m.steps) < 2 || m.steps[0] == m.steps[len(m.steps)-1] {
				continue
			}
			m.steps[0], m.steps[len(m.steps)-1] = m.steps[len(m.steps)-1], m.steps[0]
			return m, "steps reordered"
		case 6:
			if len(m.steps) == 0 {
				continue
			}
			m.steps = m.steps[:len(m.steps)-1]
			return m, "a step removed"
		case 7:
			m.facts = append(m.facts, text(r))
			return m, "a fact added"
		}
	}
}

// The digest is a function of the work alone: stable for the same work,
// whatever the words, and different whenever anything it covers changes.
func TestPlanDigestProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		w := randomWork(r)
		d := w.digest()
		require.Regexp(t, `^v1:[0-9a-f]{64}$`, d)
		assert.Equal(t, d, w.clone().digest(), "the same work")

		words := w.clone()
		for j := range words.steps {
			words.steps[j].Description = text(r)
		}
		assert.Equal(t, d, words.digest(), "descriptions are words, not work")

		m, what := mutate(r, w)
		assert.NotEqual(t, d, m.digest(), "case %d: %s changed: %+v -> %+v", i, what, w, m)
	}
	// No facts and an empty list of facts are the same work.
	assert.Equal(t, PlanDigest(RiskLow, nil, nil), PlanDigest(RiskLow, []PlanStep{}, []string{}))
}

// The address a target is reached at is not part of the work: a sandbox
// served on another port, or the same API behind another host, plans the
// same digest; the path, query, method and body still count.
func TestPlanDigestIgnoresTheEndpointsAddress(t *testing.T) {
	step := func(e string) []PlanStep { return []PlanStep{{Method: "POST", Endpoint: e, Body: `{"n":1}`}} }
	a := PlanDigest(RiskHigh, step("http://127.0.0.1:40529/counter/add?x=1"), nil)
	assert.Equal(t, a, PlanDigest(RiskHigh, step("https://api.example.net/counter/add?x=1"), nil))
	assert.Equal(t, a, PlanDigest(RiskHigh, step("/counter/add?x=1"), nil))
	assert.NotEqual(t, a, PlanDigest(RiskHigh, step("http://127.0.0.1:40529/counter/add?x=2"), nil))
	assert.NotEqual(t, a, PlanDigest(RiskHigh, step("http://127.0.0.1:40529/counter/sub?x=1"), nil))
}
