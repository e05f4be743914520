package seed

import (
	"fmt"
	"strings"
)

// Teams is how many static groups the seeded policy puts its users in;
// each user is in two.
const Teams = 100

// TeamsOf are the teams seeded user i belongs to.
func TeamsOf(i int) [2]int { return [2]int{i % Teams, (i / Teams) % Teams} }

// Policy returns a valid policy file (YAML) of about rules rules over
// users users: a tenth explicit deny rules, a tenth approval rules, and
// the rest grants, ten to a role, with command patterns as desks write
// them (mostly exact commands, some "provider:noun *", a few
// "provider:*"), some scoped to targets, some with conditions. Users are
// bound to roles through their two teams; team00 and team01 may approve
// anything.
func Policy(rules, users int) []byte {
	rng := newRand(uint64(rules)*7919 + uint64(users))
	denies := max(rules/10, 1)
	approvals := max(rules/10, 1)
	grants := max(rules-denies-approvals, 10)
	roles := (grants + 9) / 10

	var b strings.Builder
	b.WriteString("version: 1\nusers:\n")
	for i := range users {
		fmt.Fprintf(&b, "  %s: %s\n", UserName(i), UserID(i))
	}
	b.WriteString("groups:\n")
	members := make([][]string, Teams)
	for i := range users {
		t := TeamsOf(i)
		members[t[0]] = append(members[t[0]], UserName(i))
		if t[1] != t[0] {
			members[t[1]] = append(members[t[1]], UserName(i))
		}
	}
	for t, m := range members {
		if len(m) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  team%02d: [%s]\n", t, strings.Join(m, ", "))
	}

	pattern := func() string {
		c := Commands[rng.IntN(len(Commands))]
		switch x := rng.IntN(10); {
		case x < 7:
			return c
		case x < 9:
			noun, _, _ := strings.Cut(c, " ")
			return noun + " *"
		default:
			prov, _, _ := strings.Cut(c, ":")
			return prov + ":*"
		}
	}
	b.WriteString("roles:\n  approver:\n    approve:\n      - commands: [\"*:*\"]\n        max_risk: critical\n")
	g := 0
	for r := range roles {
		fmt.Fprintf(&b, "  role%04d:\n    description: seeded role %d\n    grants:\n", r, r)
		for k := 0; k < 10 && g < grants; k++ {
			g++
			fmt.Fprintf(&b, "      - commands: [%q]\n        max_risk: critical\n", pattern())
			if rng.IntN(10) < 3 {
				fmt.Fprintf(&b, "        targets: [\"web%d*\"]\n", rng.IntN(4))
			}
			if rng.IntN(10) == 0 {
				fmt.Fprintf(&b, "        when: 'args.limit <= %d'\n", 10+rng.IntN(90))
			}
		}
	}

	b.WriteString("bindings:\n  - subjects: [group:team00, group:team01]\n    roles: [approver]\n")
	for t := range Teams {
		if len(members[t]) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  - subjects: [group:team%02d]\n    roles: [role%04d, role%04d, role%04d]\n", t, (t*3)%roles, (t*3+1)%roles, (t*3+2)%roles)
	}

	b.WriteString("deny:\n")
	for range denies {
		fmt.Fprintf(&b, "  - commands: [%q]\n    subjects: [group:team%02d]\n    reason: seeded deny\n", Commands[rng.IntN(len(Commands))], rng.IntN(Teams))
	}
	b.WriteString("approvals:\n  rules:\n")
	for range approvals {
		fmt.Fprintf(&b, "    - commands: [%q]\n      approvers: 1\n      approver_roles: [approver]\n", Commands[rng.IntN(len(Commands))])
	}
	return []byte(b.String())
}
