package catalog

import "testing"

// A name in a risk table that is not an operation is a typo that leaves
// the real operation at the default level.
func TestRiskTableNamesAreOperations(t *testing.T) {
	c := MustLoad()
	for _, table := range []map[string]bool{lowChanges, destroys} {
		for n := range table {
			if _, ok := c.Get(n); !ok {
				t.Errorf("risk table names %q, which is not an operation", n)
			}
		}
	}
}
