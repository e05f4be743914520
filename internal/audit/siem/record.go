package siem

import (
	"encoding/json"

	"github.com/deskbot/deskbot/internal/audit"
	"github.com/deskbot/deskbot/internal/store"
)

// recordJSON is an entry as shipped: the same JSON as bot audit export
// writes, so one parser reads both.
func recordJSON(r store.AuditRecord) []byte {
	b, _ := json.Marshal(audit.RecordOf(r))
	return b
}
