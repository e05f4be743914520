package command

import "testing"

func BenchmarkParse(b *testing.B) {
	p := provider()
	for name, line := range map[string]string{
		"positional": "ipl check 203.0.113.7",
		"enum alias": "ipl register 203.0.113.7 type=kernelcare els_allowed=yes --target backup",
		"quoted":     `kcare key create limit=5 note="customer 42, ticket 1234"`,
		"repeated":   "hulk unblock 192.0.2.1,192.0.2.2 192.0.2.3",
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(p, line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
