package metrics

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The audit shipping series are what DeskbotAuditShippingStalled reads:
// a failed attempt counts and keeps the last success; an unreadable
// backlog (-1) leaves the gauge as it was.
func TestAuditShipProgress(t *testing.T) {
	m := New()
	dest := "webhook:https://siem.example/ingest"
	at := time.Unix(1_800_000_000, 0)
	m.AuditShipProgress(dest, 0, nil, at)
	m.AuditShipProgress(dest, 7, errors.New("503"), at.Add(time.Minute))
	m.AuditShipProgress(dest, -1, errors.New("503"), at.Add(2*time.Minute))

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`deskbot_audit_ship_behind_entries{destination="webhook:https://siem.example/ingest"} 7`,
		`deskbot_audit_ship_failures_total{destination="webhook:https://siem.example/ingest"} 2`,
		`deskbot_audit_ship_last_success_timestamp_seconds{destination="webhook:https://siem.example/ingest"} 1.8e+09`,
	} {
		assert.True(t, strings.Contains(body, want), "missing %s in\n%s", want, body)
	}
}
