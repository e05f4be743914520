package sdk

import (
	"context"
	"sync"
	"time"
)

// ListFunc lists every value a parameter may take on the call's target
// (every account name), best first; the SDK filters by what is typed.
type ListFunc func(ctx context.Context, c *Call) ([]Suggestion, error)

// CompleteFromList suggests the values list returns that begin with what
// is typed. Suggestions are asked at every keystroke, and a provider's
// request allowance is shared with real work, so the list is read once
// per target and key for ttl and served from memory meanwhile: commands
// that list the same thing (every command naming an account) share a
// key. A failed read is not kept.
func CompleteFromList(key string, ttl time.Duration, list ListFunc) CompleteFunc {
	return func(ctx context.Context, c *Call, prefix string) ([]Suggestion, error) {
		var all []Suggestion
		var err error
		if c.lists == nil {
			all, err = list(ctx, c)
		} else {
			all, err = c.lists.get(ctx, key, ttl, func(ctx context.Context) ([]Suggestion, error) { return list(ctx, c) })
		}
		if err != nil {
			return nil, err
		}
		return SuggestPrefix(prefix, all), nil
	}
}

type listCache struct {
	mu sync.Mutex
	m  map[string]listEntry
}

type listEntry struct {
	at   time.Time
	vals []Suggestion
}

func (lc *listCache) get(ctx context.Context, key string, ttl time.Duration, load func(context.Context) ([]Suggestion, error)) ([]Suggestion, error) {
	lc.mu.Lock()
	e, ok := lc.m[key]
	lc.mu.Unlock()
	if ok && time.Since(e.at) < ttl {
		return e.vals, nil
	}
	vals, err := load(ctx)
	if err != nil {
		return nil, err
	}
	lc.mu.Lock()
	if lc.m == nil {
		lc.m = map[string]listEntry{}
	}
	lc.m[key] = listEntry{at: time.Now(), vals: vals}
	lc.mu.Unlock()
	return vals, nil
}
