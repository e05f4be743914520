package sdk

import (
	"sort"
	"strings"
)

// Suggest returns the candidates close to word (plugins use it to answer
// "no account demo9; did you mean demo1?"): same prefix, or within a
// small edit distance (a transposition counts as one edit), best first.
func Suggest(word string, candidates []string) []string {
	word = strings.ToLower(word)
	type scored struct {
		s string
		d int
	}
	var out []scored
	seen := map[string]bool{}
	limit := max(1, len([]rune(word))/3)
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if seen[lc] || lc == word {
			continue
		}
		d := distance(word, lc)
		switch {
		case d <= limit:
		case len(word) >= 3 && strings.HasPrefix(lc, word):
			d = limit + 1
		default:
			continue
		}
		seen[lc] = true
		out = append(out, scored{c, d})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].d != out[j].d {
			return out[i].d < out[j].d
		}
		return out[i].s < out[j].s
	})
	if len(out) > 3 {
		out = out[:3]
	}
	res := make([]string, len(out))
	for i, s := range out {
		res[i] = s.s
	}
	return res
}

// distance is the optimal string alignment distance between a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// MaxSuggestions is the most suggestions a completion should return:
// Slack shows 100 options at most, and nobody reads more.
const MaxSuggestions = 100

// SuggestPrefix keeps the candidates whose value begins with prefix (case
// ignored), each value once, in the order given, at most MaxSuggestions:
// what a completion function returns once it has listed what exists.
func SuggestPrefix(prefix string, candidates []Suggestion) []Suggestion {
	prefix = strings.ToLower(prefix)
	seen := map[string]bool{}
	var out []Suggestion
	for _, c := range candidates {
		if len(out) == MaxSuggestions {
			break
		}
		if c.Value == "" || seen[c.Value] || !strings.HasPrefix(strings.ToLower(c.Value), prefix) {
			continue
		}
		seen[c.Value] = true
		out = append(out, c)
	}
	return out
}
