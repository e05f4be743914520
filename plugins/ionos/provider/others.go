package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/deskbot/deskbot/plugins/ionos/client"
	"github.com/deskbot/deskbot/sdk"
)

type snapshot struct {
	ID           string `json:"id"`
	CreationDate string `json:"creation_date"`
	DeletionDate string `json:"deletion_date"`
}

func snapshotsOf(ctx context.Context, c *client.Client, s *server) ([]snapshot, error) {
	var list []snapshot
	_, err := c.Do(ctx, get("/servers/"+s.ID+"/snapshots", nil), &list)
	return list, err
}

// pickSnapshot finds the snapshot to act on: the one named, or the only one.
func pickSnapshot(ctx context.Context, c *client.Client, s *server, id string) (*snapshot, error) {
	list, err := snapshotsOf(ctx, c, s)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, sdk.BadArg("server", "%s has no snapshot", s.Name)
	}
	if id == "" {
		if len(list) > 1 {
			return nil, sdk.BadArg("snapshot", "%s has %d snapshots; name one", s.Name, len(list))
		}
		return &list[0], nil
	}
	for i := range list {
		if strings.EqualFold(list[i].ID, id) {
			return &list[i], nil
		}
	}
	return nil, sdk.BadArg("snapshot", "%s has no snapshot %s", s.Name, id)
}

type publicIP struct {
	ID         string  `json:"id"`
	IP         string  `json:"ip"`
	Type       string  `json:"type"`
	ReverseDNS *string `json:"reverse_dns"`
	State      string  `json:"state"`
	AssignedTo *struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"assigned_to"`
}

func findIP(ctx context.Context, c *client.Client, addr string) (*publicIP, error) {
	var list []publicIP
	if err := c.List(ctx, "/public_ips", url.Values{"q": {addr}}, 100, &list); err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].IP == addr || strings.EqualFold(list[i].ID, addr) {
			return &list[i], nil
		}
	}
	return nil, sdk.BadArg("ip", "%s is not one of this account's public IPs", addr)
}

func periodParam() sdk.Param {
	return sdk.Enum("period", "Time range", "LAST_HOUR", "LAST_24H", "LAST_7D", "LAST_30D", "LAST_365D").WithDefault("LAST_24H")
}

func registerOthers(p *sdk.Plugin) {
	register(p, op{name: "status", summary: "Whether the API answers and accepts this key from here", risk: sdk.RiskReadOnly,
		examples: []string{"/ionos status"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "Check the API key", steps: []step{{req: get("/ping_auth", nil), what: "Ping with the key"}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			r.AddText("The IONOS API answers and accepts this key.")
			return nil
		},
	})
	register(p, op{name: "snapshot list", summary: "A server's snapshots", risk: sdk.RiskReadOnly, params: []sdk.Param{serverP},
		examples: []string{"/ionos snapshot list db01"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			return &work{summary: "List snapshots of " + s.label(), steps: []step{{req: get("/servers/"+s.ID+"/snapshots", nil), what: "List snapshots"}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			var list []snapshot
			if err := decodeOne(res[0], &list); err != nil {
				return err
			}
			if len(list) == 0 {
				r.AddText("%s has no snapshot.", a.String("server"))
				return nil
			}
			t := r.AddTable("Snapshots", "id", "taken", "deleted automatically")
			for _, sn := range list {
				t.Row(sn.ID, sn.CreationDate, sn.DeletionDate)
			}
			return nil
		},
	})
	register(p, op{name: "snapshot create", summary: "Take a snapshot of a server", risk: sdk.RiskHigh, params: []sdk.Param{serverP},
		help:     "A server holds one snapshot; it is deleted automatically after three days, and it is billed.",
		examples: []string{"/ionos snapshot create db01"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			if s.Snapshot != nil && s.Snapshot.ID != "" {
				return nil, sdk.BadArg("server", "%s already has a snapshot (%s); delete it first", s.Name, s.Snapshot.CreationDate)
			}
			return &work{summary: "Snapshot " + s.label(), label: s.Name, notes: []string{"Snapshots are billed."},
				steps: []step{{req: client.Request{Method: http.MethodPost, Path: "/servers/" + s.ID + "/snapshots", EmptyBody: true}, what: "Take a snapshot", follow: "/servers/" + s.ID + "/status"}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			if !res[0].still {
				r.AddText("Snapshot of %s taken.", a.String("server"))
			}
			return nil
		},
	})
	snapP := sdk.String("snapshot", "Snapshot id (if the server has several)")
	register(p, op{name: "snapshot restore", summary: "Roll a server's disk back to its snapshot", risk: sdk.RiskCritical, params: []sdk.Param{serverP, snapP},
		examples: []string{"/ionos snapshot restore db01"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			sn, err := pickSnapshot(ctx, c, s, a.String("snapshot"))
			if err != nil {
				return nil, err
			}
			return &work{summary: fmt.Sprintf("Restore %s to its snapshot of %s", s.label(), sn.CreationDate), label: s.Name,
				notes: []string{"Everything written since the snapshot is lost."},
				steps: []step{{req: client.Request{Method: http.MethodPut, Path: "/servers/" + s.ID + "/snapshots/" + sn.ID, EmptyBody: true}, what: "Restore the snapshot", follow: "/servers/" + s.ID + "/status"}}}, nil
		},
		show: showFinal("server"),
	})
	register(p, op{name: "snapshot delete", summary: "Delete a server's snapshot", risk: sdk.RiskCritical, params: []sdk.Param{serverP, snapP},
		examples: []string{"/ionos snapshot delete db01"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			sn, err := pickSnapshot(ctx, c, s, a.String("snapshot"))
			if err != nil {
				return nil, err
			}
			return &work{summary: fmt.Sprintf("Delete the snapshot of %s taken %s", s.label(), sn.CreationDate), label: s.Name,
				steps: []step{{req: client.Request{Method: http.MethodDelete, Path: "/servers/" + s.ID + "/snapshots/" + sn.ID}, what: "Delete the snapshot", follow: "/servers/" + s.ID + "/status"}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			if !res[0].still {
				r.AddText("The snapshot of %s is deleted.", a.String("server"))
			}
			return nil
		},
	})
	register(p, op{name: "ip list", summary: "The account's public IPs, where they are and their reverse DNS", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{sdk.String("search", "Text to look for").AsPositional()},
		examples: []string{"/ionos ip list"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			q := url.Values{}
			if s := a.String("search"); s != "" {
				q.Set("q", s)
			}
			return &work{summary: "List public IPs", steps: []step{{req: get("/public_ips", q), what: "List public IPs", all: true}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			var list []publicIP
			if err := decodeOne(res[0], &list); err != nil {
				return err
			}
			t := r.AddTable("", "ip", "id", "type", "reverse dns", "assigned to", "state")
			for _, ip := range list {
				to := "-"
				if ip.AssignedTo != nil {
					to = ip.AssignedTo.Name + " (" + strings.ToLower(ip.AssignedTo.Type) + ")"
				}
				t.Row(ip.IP, ip.ID, ip.Type, deref(ip.ReverseDNS), to, ip.State)
			}
			return nil
		},
	})
	register(p, op{name: "ip rdns", summary: "Set or clear the reverse DNS of a public IP", risk: sdk.RiskLow,
		params: []sdk.Param{sdk.IP("ip", "The address").AsRequired().AsPositional(),
			sdk.String("name", "The host name; leave it out to clear").AsPositional()},
		examples: []string{"/ionos ip rdns 203.0.113.30 web01.example.net", "/ionos ip rdns 203.0.113.30"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			ip, err := findIP(ctx, c, a.String("ip"))
			if err != nil {
				return nil, err
			}
			name := strings.TrimSuffix(a.String("name"), ".")
			if name != "" && !validHost(name) {
				return nil, sdk.BadArg("name", "%q is not a host name", name)
			}
			what := fmt.Sprintf("Set the reverse DNS of %s to %s (now %s)", ip.IP, name, orDash(deref(ip.ReverseDNS)))
			if name == "" {
				what = fmt.Sprintf("Clear the reverse DNS of %s (now %s)", ip.IP, orDash(deref(ip.ReverseDNS)))
			}
			return &work{summary: what, steps: []step{{req: client.Request{Method: http.MethodPut, Path: "/public_ips/" + ip.ID, Body: map[string]any{"reverse_dns": name}}, what: "Set reverse DNS"}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			var ip publicIP
			if err := decodeOne(res[0], &ip); err != nil {
				return err
			}
			r.AddText("Reverse DNS of %s: %s", ip.IP, orDash(deref(ip.ReverseDNS)))
			return nil
		},
	})
	register(p, op{name: "firewall list", summary: "Firewall policies", risk: sdk.RiskReadOnly,
		examples: []string{"/ionos firewall list"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "List firewall policies", steps: []step{{req: get("/firewall_policies", nil), what: "List policies", all: true}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			var list []struct {
				ID, Name, Description, State string
				Rules                        []json.RawMessage `json:"rules"`
				ServerIPs                    []struct {
					IP string `json:"ip"`
				} `json:"server_ips"`
			}
			if err := decodeOne(res[0], &list); err != nil {
				return err
			}
			t := r.AddTable("", "name", "id", "rules", "server ips", "state")
			for _, f := range list {
				var ips []string
				for _, s := range f.ServerIPs {
					ips = append(ips, s.IP)
				}
				t.Row(f.Name, f.ID, strconv.Itoa(len(f.Rules)), strings.Join(ips, ", "), f.State)
			}
			return nil
		},
	})
	register(p, op{name: "firewall rules", summary: "The rules that apply to a server's IPs, or of one policy", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{sdk.String("server", "Server name or id, or a policy id").AsRequired().AsPositional()},
		examples: []string{"/ionos firewall rules web01"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			ref := a.String("server")
			if idRE.MatchString(ref) {
				var f struct{ Name string }
				if _, err := c.Do(ctx, get("/firewall_policies/"+ref, nil), &f); err == nil {
					return &work{summary: "Show the rules of policy " + f.Name, steps: []step{{req: get("/firewall_policies/"+ref+"/rules", nil), what: "Read the rules"}}}, nil
				}
			}
			s, err := findServer(ctx, c, ref)
			if err != nil {
				return nil, err
			}
			seen := map[string]bool{}
			w := &work{summary: "Show the firewall of " + s.label()}
			for _, ip := range s.IPs {
				if ip.FirewallPolicy == nil || seen[ip.FirewallPolicy.ID] {
					continue
				}
				seen[ip.FirewallPolicy.ID] = true
				w.steps = append(w.steps, step{req: get("/firewall_policies/"+ip.FirewallPolicy.ID+"/rules", nil), what: "Read policy " + ip.FirewallPolicy.Name})
			}
			if len(w.steps) == 0 {
				return nil, sdk.BadArg("server", "no firewall policy applies to %s", s.Name)
			}
			return w, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			for _, d := range res {
				var rules []struct {
					Protocol    string `json:"protocol"`
					PortFrom    *int   `json:"port_from"`
					PortTo      *int   `json:"port_to"`
					Source      string `json:"source"`
					Action      string `json:"action"`
					Description string `json:"description"`
				}
				if err := decodeOne(d, &rules); err != nil {
					return err
				}
				t := r.AddTable("Rules", "protocol", "ports", "source", "action", "description")
				for _, x := range rules {
					t.Row(x.Protocol, ports(x.PortFrom, x.PortTo), x.Source, x.Action, x.Description)
				}
			}
			return nil
		},
	})
	register(p, op{name: "dvd list", summary: "ISO images that can be mounted", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{sdk.String("search", "Text to look for").AsPositional()},
		examples: []string{"/ionos dvd list ubuntu"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			q := url.Values{}
			if s := a.String("search"); s != "" {
				q.Set("q", s)
			}
			return &work{summary: "List ISO images", steps: []step{{req: get("/dvd_isos", q), what: "List ISOs", all: true}}}, nil
		},
		show: tableOf("", "name", "id", "os", "os_version", "architecture"),
	})
	register(p, op{name: "dvd mount", summary: "Mount an ISO in a server's DVD drive", risk: sdk.RiskLow,
		params:   []sdk.Param{serverP, sdk.String("iso", "ISO id (see /ionos dvd list)").AsRequired().AsPositional()},
		examples: []string{"/ionos dvd mount web01 B675B070A3BB5C8D71B2129952F04BC8"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			return &work{summary: fmt.Sprintf("Mount ISO %s in %s", a.String("iso"), s.label()), label: s.Name, notes: []string{"The server boots from it at its next restart."},
				steps: []step{{req: client.Request{Method: http.MethodPut, Path: "/servers/" + s.ID + "/dvd", Body: map[string]any{"id": a.String("iso")}}, what: "Mount the ISO", follow: "/servers/" + s.ID + "/status"}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			if !res[0].still {
				r.AddText("ISO mounted in %s.", a.String("server"))
			}
			return nil
		},
	})
	register(p, op{name: "dvd unmount", summary: "Take the ISO out of a server's DVD drive", risk: sdk.RiskLow, params: []sdk.Param{serverP},
		examples: []string{"/ionos dvd unmount web01"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			if s.DVD == nil || s.DVD.ID == "" {
				return nil, sdk.BadArg("server", "no ISO is mounted in %s", s.Name)
			}
			return &work{summary: fmt.Sprintf("Unmount %s from %s", s.DVD.Name, s.label()), label: s.Name,
				steps: []step{{req: client.Request{Method: http.MethodDelete, Path: "/servers/" + s.ID + "/dvd"}, what: "Unmount the ISO", follow: "/servers/" + s.ID + "/status"}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			if !res[0].still {
				r.AddText("The DVD drive of %s is empty.", a.String("server"))
			}
			return nil
		},
	})
	register(p, op{name: "monitoring", summary: "Monitoring center: alerts of all servers, or one server's usage", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{sdk.String("server", "One server").AsPositional(), periodParam()},
		examples: []string{"/ionos monitoring", "/ionos monitoring web01 period=LAST_7D"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			if a.String("server") == "" {
				return &work{summary: "Read the monitoring center", steps: []step{{req: get("/monitoring_center", nil), what: "Read alerts"}}}, nil
			}
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			return &work{summary: "Read the monitoring of " + s.label(), steps: []step{{req: get("/monitoring_center/"+s.ID, url.Values{"period": {a.String("period")}}), what: "Read usage"}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			var v any
			if err := decodeOne(res[0], &v); err != nil {
				return err
			}
			list, ok := v.([]any)
			if !ok {
				r.AddJSON("Monitoring of "+a.String("server"), c.Redactor().Any(v))
				return nil
			}
			t := r.AddTable("Monitoring center", "server", "critical", "warning", "ok", "agent")
			for _, e := range list {
				m, _ := e.(map[string]any)
				crit, warn, okc := alertCounts(m["alerts"])
				if c2, w2, o2 := alertCounts(m["alerts_count"]); c2+w2+o2 > 0 {
					crit, warn, okc = c2, w2, o2
				}
				agent := "no"
				if ag, ok := m["agent"].(map[string]any); ok && ag["agent_installed"] == true {
					agent = "yes"
				}
				name, _ := m["name"].(string)
				t.Row(name, strconv.Itoa(crit), strconv.Itoa(warn), strconv.Itoa(okc), agent)
			}
			return nil
		},
	})
	register(p, op{name: "logs", summary: "Who did what on the account", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{sdk.String("search", "Text to look for").AsPositional(), periodParam()},
		examples: []string{"/ionos logs", "/ionos logs web01 period=LAST_7D"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			q := url.Values{"period": {a.String("period")}}
			if s := a.String("search"); s != "" {
				q.Set("q", s)
			}
			return &work{summary: "Read the account's logs", steps: []step{{req: get("/logs", q), what: "Read logs", all: true}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			var list []struct {
				Action    string `json:"action"`
				Type      string `json:"type"`
				StartDate string `json:"start_date"`
				Resource  ref    `json:"resource"`
				User      ref    `json:"user"`
				Status    struct {
					State string `json:"state"`
				} `json:"status"`
			}
			if err := decodeOne(res[0], &list); err != nil {
				return err
			}
			if len(list) == 0 {
				r.AddText("Nothing was logged.")
				return nil
			}
			t := r.AddTable("", "when", "user", "action", "type", "resource", "state")
			for _, l := range list {
				t.Row(l.StartDate, l.User.Name, l.Action, l.Type, l.Resource.Name, l.Status.State)
			}
			return nil
		},
	})
	register(p, op{name: "datacenters", summary: "Where servers can run", risk: sdk.RiskReadOnly,
		examples: []string{"/ionos datacenters"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "List datacenters", steps: []step{{req: get("/datacenters", nil), what: "List datacenters", all: true}}}, nil
		},
		show: tableOf("", "location", "country_code", "id"),
	})
	register(p, op{name: "appliances", summary: "Images to install or to rescue a server with", risk: sdk.RiskReadOnly,
		params: []sdk.Param{sdk.String("search", "Text to look for").AsPositional(),
			sdk.Enum("kind", "Server images or recovery systems", "server", "recovery").WithDefault("server")},
		examples: []string{"/ionos appliances centos", "/ionos appliances kind=recovery"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			q := url.Values{}
			if s := a.String("search"); s != "" {
				q.Set("q", s)
			}
			return &work{summary: "List " + a.String("kind") + " appliances", steps: []step{{req: get("/"+a.String("kind")+"_appliances", q), what: "List appliances", all: true}}}, nil
		},
		show: tableOf("", "name", "id", "os", "os_version", "architecture"),
	})
}

// tableOf renders a list answer as a table of the given fields.
func tableOf(title string, cols ...string) func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
	return func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
		var list []map[string]any
		if err := decodeOne(res[0], &list); err != nil {
			return err
		}
		if len(list) == 0 {
			r.AddText("None.")
			return nil
		}
		t := r.AddTable(title, cols...)
		for _, m := range list {
			m = c.Redactor().Any(m).(map[string]any)
			row := make([]string, len(cols))
			for i, k := range cols {
				row[i] = sdk.CellText(m[k])
			}
			t.Row(row...)
		}
		return nil
	}
}

func ports(from, to *int) string {
	switch {
	case from == nil && to == nil:
		return "all"
	case from != nil && to != nil && *from != *to:
		return fmt.Sprintf("%d-%d", *from, *to)
	case from != nil:
		return strconv.Itoa(*from)
	}
	return strconv.Itoa(*to)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func validHost(h string) bool {
	if len(h) > 253 || net.ParseIP(h) != nil {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return strings.Contains(h, ".")
}

// alertCounts sums {ports,process,resources}.{critical,warning,ok}.
func alertCounts(v any) (crit, warn, ok int) {
	groups, _ := v.(map[string]any)
	for _, g := range groups {
		m, _ := g.(map[string]any)
		n := func(k string) int {
			f, _ := m[k].(float64)
			return int(f)
		}
		crit += n("critical")
		warn += n("warning")
		ok += n("ok")
	}
	return
}
