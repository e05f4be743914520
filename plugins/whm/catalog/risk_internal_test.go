package catalog

import "testing"

// A name in the risk table that is not a function is a typo that leaves
// the real function at the default level.
func TestRiskTableNamesAreFunctions(t *testing.T) {
	c := MustLoad()
	for _, table := range []map[string]bool{readOnly, notReadOnly, low, critical, keyIsSecret} {
		for n := range table {
			if _, ok := c.Get(n); !ok {
				t.Errorf("risk table names %q, which is not a WHM API 1 function", n)
			}
		}
	}
	for _, p := range readOnlyPrefixes {
		n := 0
		for _, f := range c.Functions {
			if len(f.Name) >= len(p) && f.Name[:len(p)] == p {
				n++
			}
		}
		if n == 0 {
			t.Errorf("read-only prefix %q matches no function", p)
		}
	}
}
