package slack

import (
	"context"
	"sort"
	"sync"
	"time"
)

// groupCache resolves users to the Slack user groups the policy names,
// through usergroups.users.list, caching each group's members.
type groupCache struct {
	a      *Adapter
	groups func() []string
	ttl    time.Duration
	mu     sync.Mutex
	cache  map[string]groupEntry
}

type groupEntry struct {
	members map[string]bool
	at      time.Time
}

func newGroupCache(a *Adapter, groups func() []string, ttl time.Duration) *groupCache {
	return &groupCache{a: a, groups: groups, ttl: ttl, cache: map[string]groupEntry{}}
}

// of lists the policy's groups user belongs to. A group that cannot be
// fetched counts as not containing the user, and its stale members are
// used if there are any: fail closed, but do not flap.
func (g *groupCache) of(ctx context.Context, user string) []string {
	if g.groups == nil {
		return nil
	}
	var out []string
	for _, id := range g.groups() {
		if g.members(ctx, id)[user] {
			out = append(out, id)
		}
	}
	return out
}

func (g *groupCache) members(ctx context.Context, id string) map[string]bool {
	g.mu.Lock()
	e, ok := g.cache[id]
	g.mu.Unlock()
	if ok && time.Since(e.at) < g.ttl {
		return e.members
	}
	users, err := g.a.api.GetUserGroupMembersContext(ctx, id)
	g.a.apiCall("usergroups.users.list", err)
	if err != nil {
		g.a.log.Warn("could not list a user group's members", "group", id, "error", err)
		return e.members
	}
	m := make(map[string]bool, len(users))
	for _, u := range users {
		m[u] = true
	}
	g.mu.Lock()
	g.cache[id] = groupEntry{members: m, at: time.Now()}
	g.mu.Unlock()
	return m
}

// people lists, sorted, everyone the policy can reach: the users it names
// and the members of the Slack user groups it names.
func (g *groupCache) people(ctx context.Context, named []string) []string {
	seen := map[string]bool{}
	for _, u := range named {
		seen[u] = true
	}
	if g.groups != nil {
		for _, id := range g.groups() {
			for u := range g.members(ctx, id) {
				seen[u] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for u := range seen {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}
