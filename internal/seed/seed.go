// Package seed builds a desk's data at the sizes a year of use leaves
// behind (a policy for thousands of staff, a million audit entries,
// thousands of pending approvals) through the same APIs the bot writes
// with, for benchmarks and the cost curves in docs/performance.md. It is
// deterministic: the same sizes give the same data.
//
// It is a package rather than a hidden bot subcommand because every
// consumer is a benchmark, which needs the data in-process and in a
// fresh store per run; nothing here belongs in the shipped binary.
package seed

import (
	"fmt"
	"math/rand/v2"
)

// Commands are realistic provider:command keys: what the seeded policy
// grants and the seeded log records.
var Commands = func() []string {
	nouns := map[string][]string{
		"whm":       {"account", "dns", "ssl", "backup", "email", "package", "reseller", "service", "php", "mysql"},
		"cln":       {"ipl", "license", "server", "kernelcare", "imunify"},
		"ionos":     {"server", "volume", "snapshot", "lan", "ipblock", "loadbalancer", "firewall"},
		"cloudflow": {"vm", "disk", "backup", "network", "hypervisor", "template"},
		"example":   {"echo", "counter"},
	}
	verbs := []string{"list", "info", "create", "suspend", "unsuspend", "delete", "restart", "resize"}
	var out []string
	for _, p := range []string{"whm", "cln", "ionos", "cloudflow", "example"} {
		for _, n := range nouns[p] {
			for _, v := range verbs {
				out = append(out, p+":"+n+" "+v)
			}
		}
	}
	return out
}()

// UserID is the Slack user id of seeded user i.
func UserID(i int) string { return fmt.Sprintf("U%08d", i) }

// UserName is the policy name of seeded user i.
func UserName(i int) string { return fmt.Sprintf("u%05d", i) }

// Target is one of the hosts the seeded commands act on.
func Target(i int) string { return fmt.Sprintf("web%02d", i%40) }

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }
