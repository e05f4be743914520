// Package metrics holds the bot's Prometheus collectors: requests,
// decisions, approvals, plugin calls and their latency, chat API calls and
// errors. It implements the engine's Observer.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of collectors, on a registry of its own.
type Metrics struct {
	Registry      *prometheus.Registry
	Requests      *prometheus.CounterVec
	Decisions     *prometheus.CounterVec
	Approvals     *prometheus.CounterVec
	PluginCalls   *prometheus.CounterVec
	PluginLatency *prometheus.HistogramVec
	ChatCalls     *prometheus.CounterVec
	Inbound       *prometheus.CounterVec
	AckLatency    prometheus.Histogram
	Errors        *prometheus.CounterVec
	PluginUp      *prometheus.GaugeVec
	// AuditShipBehind, AuditShipFailures and AuditShipLastSuccess follow
	// audit shipping to each SIEM destination.
	AuditShipBehind      *prometheus.GaugeVec
	AuditShipFailures    *prometheus.CounterVec
	AuditShipLastSuccess *prometheus.GaugeVec
}

// New registers the collectors (and the Go and process collectors).
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "deskbot_requests_total",
			Help: "Commands handled, by provider and outcome (ok, invalid, denied, pending, failed)."}, []string{"provider", "status"}),
		Decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "deskbot_policy_decisions_total",
			Help: "Policy decisions, by effect."}, []string{"effect"}),
		Approvals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "deskbot_approvals_total",
			Help: "Approval events, by outcome (requested, approved, refused, denied, cancelled, expired, unknown)."}, []string{"outcome"}),
		PluginCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "deskbot_plugin_calls_total",
			Help: "Calls to provider plugins, by plugin, method and outcome."}, []string{"plugin", "method", "outcome"}),
		PluginLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "deskbot_plugin_call_seconds",
			Help: "Latency of calls to provider plugins.", Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}},
			[]string{"plugin", "method"}),
		ChatCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "deskbot_chat_api_calls_total",
			Help: "Calls to the chat platform's API, by method and outcome."}, []string{"method", "outcome"}),
		Inbound: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "deskbot_inbound_total",
			Help: "Requests from the chat platform, by kind and outcome (accepted, rejected, duplicate, busy; for commands also recovered, unknown, dropped, store_error, taken_over)."}, []string{"kind", "outcome"}),
		AckLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "deskbot_ack_seconds",
			Help: "Time from receiving a chat request to acknowledging it.", Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .5, 1, 3}}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "deskbot_errors_total",
			Help: "Errors, by kind."}, []string{"kind"}),
		PluginUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "deskbot_plugin_up",
			Help: "1 when a plugin is ready, 0 while it restarts or is down."}, []string{"plugin"}),
		AuditShipBehind: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "deskbot_audit_ship_behind_entries",
			Help: "Audit entries written but not yet delivered to a SIEM destination, as of this replica's last attempt."}, []string{"destination"}),
		AuditShipFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "deskbot_audit_ship_failures_total",
			Help: "Failed attempts to deliver audit entries to a SIEM destination."}, []string{"destination"}),
		AuditShipLastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "deskbot_audit_ship_last_success_timestamp_seconds",
			Help: "When this replica last delivered to (or found nothing to send to) a SIEM destination, in Unix seconds."}, []string{"destination"}),
	}
	r.MustRegister(m.Requests, m.Decisions, m.Approvals, m.PluginCalls, m.PluginLatency, m.ChatCalls, m.Inbound, m.AckLatency, m.Errors, m.PluginUp,
		m.AuditShipBehind, m.AuditShipFailures, m.AuditShipLastSuccess,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// Request implements the engine's Observer.
func (m *Metrics) Request(provider, status string) {
	m.Requests.WithLabelValues(provider, status).Inc()
}

// Decision implements the engine's Observer.
func (m *Metrics) Decision(effect string) { m.Decisions.WithLabelValues(effect).Inc() }

// Approval implements the engine's Observer.
func (m *Metrics) Approval(outcome string) { m.Approvals.WithLabelValues(outcome).Inc() }

// PluginCall implements the engine's Observer.
func (m *Metrics) PluginCall(plugin, method string, d time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.PluginCalls.WithLabelValues(plugin, method, outcome).Inc()
	m.PluginLatency.WithLabelValues(plugin, method).Observe(d.Seconds())
}

// PluginState records whether a plugin is ready.
func (m *Metrics) PluginState(plugin string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	m.PluginUp.WithLabelValues(plugin).Set(v)
}

// Error implements the engine's Observer.
func (m *Metrics) Error(kind string) { m.Errors.WithLabelValues(kind).Inc() }

// AuditShipProgress records an audit shipping attempt (see
// siem.Options.Progress); behind < 0 leaves the backlog as it was.
func (m *Metrics) AuditShipProgress(dest string, behind int64, err error, now time.Time) {
	if behind >= 0 {
		m.AuditShipBehind.WithLabelValues(dest).Set(float64(behind))
	}
	if err != nil {
		m.AuditShipFailures.WithLabelValues(dest).Inc()
		return
	}
	m.AuditShipLastSuccess.WithLabelValues(dest).Set(float64(now.UnixNano()) / 1e9)
}
