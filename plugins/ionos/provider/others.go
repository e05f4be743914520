package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
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
	path, err := client.Path("servers", s.ID, "snapshots")
	if err != nil {
		return nil, err
	}
	_, err = c.Do(ctx, get(path, nil), &list)
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
	declare(p,
		status(),
		snapshotList(), snapshotCreate(), snapshotRestore(), snapshotDelete(),
		ipList(), ipRDNS(),
		firewallList(), firewallRules(),
		dvdList(), dvdMount(), dvdUnmount(),
		monitoring(), logs(), datacenters(), appliances(),
	)
}

func status() op {
	return op{Name: "status", Summary: "Whether the API answers and accepts this key from here", Risk: sdk.RiskReadOnly,
		Examples: []string{"/ionos status"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{Summary: "Check the API key", Steps: []step{call(c, "Ping with the key", get("/ping_auth", nil))}}, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("The IONOS API answers and accepts this key.")
			return nil
		},
	}
}

func snapshotList() op {
	return op{Name: "snapshot list", Summary: "A server's snapshots", Risk: sdk.RiskReadOnly, Params: []sdk.Param{serverP},
		Examples: []string{"/ionos snapshot list db01"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			path, err := client.Path("servers", s.ID, "snapshots")
			if err != nil {
				return nil, err
			}
			return &work{Summary: "List snapshots of " + s.label(), Steps: []step{call(c, "List snapshots", get(path, nil))}}, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var list []snapshot
			if err := res[0].Decode(&list); err != nil {
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
	}
}

func snapshotCreate() op {
	return op{Name: "snapshot create", Summary: "Take a snapshot of a server", Risk: sdk.RiskHigh, Params: []sdk.Param{serverP},
		Help:     "A server holds one snapshot; it is deleted automatically after three days, and it is billed.",
		Examples: []string{"/ionos snapshot create db01"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			if s.Snapshot != nil && s.Snapshot.ID != "" {
				return nil, sdk.BadArg("server", "%s already has a snapshot (%s); delete it first", s.Name, s.Snapshot.CreationDate)
			}
			path, err := client.Path("servers", s.ID, "snapshots")
			if err != nil {
				return nil, err
			}
			return &work{Summary: "Snapshot " + s.label(), CheckWith: checkWith(s.Name), Notes: []string{"Snapshots are billed."},
				Facts: []string{s.state()},
				Steps: []step{onServer(c, "Take a snapshot", client.Request{Method: http.MethodPost, Path: path, EmptyBody: true}, s.ID)}}, nil
		},
		Show: showDone("Snapshot of %s taken."),
	}
}

var snapP = sdk.String("snapshot", "Snapshot id (if the server has several)")

// snapshotWork is a change to a server's snapshot: the snapshot's date,
// which the approver reads, is a fact.
func snapshotWork(ctx context.Context, c *client.Client, a sdk.Args, change func(s *server, sn *snapshot, path string) *work) (*work, error) {
	s, err := findServer(ctx, c, a.String("server"))
	if err != nil {
		return nil, err
	}
	sn, err := pickSnapshot(ctx, c, s, a.String("snapshot"))
	if err != nil {
		return nil, err
	}
	path, err := client.Path("servers", s.ID, "snapshots", sn.ID)
	if err != nil {
		return nil, err
	}
	w := change(s, sn, path)
	w.CheckWith = checkWith(s.Name)
	w.Facts = []string{s.state(), "its snapshot " + sn.ID + " was taken " + sn.CreationDate}
	return w, nil
}

func snapshotRestore() op {
	return op{Name: "snapshot restore", Summary: "Roll a server's disk back to its snapshot", Risk: sdk.RiskCritical, Params: []sdk.Param{serverP, snapP},
		Examples: []string{"/ionos snapshot restore db01"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return snapshotWork(ctx, c, a, func(s *server, sn *snapshot, path string) *work {
				return &work{Summary: fmt.Sprintf("Restore %s to its snapshot of %s", s.label(), sn.CreationDate),
					Notes: []string{"Everything written since the snapshot is lost."},
					Steps: []step{onServer(c, "Restore the snapshot", client.Request{Method: http.MethodPut, Path: path, EmptyBody: true}, s.ID)}}
			})
		},
		Show: showFinal("server"),
	}
}

func snapshotDelete() op {
	return op{Name: "snapshot delete", Summary: "Delete a server's snapshot", Risk: sdk.RiskCritical, Params: []sdk.Param{serverP, snapP},
		Examples: []string{"/ionos snapshot delete db01"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return snapshotWork(ctx, c, a, func(s *server, sn *snapshot, path string) *work {
				return &work{Summary: fmt.Sprintf("Delete the snapshot of %s taken %s", s.label(), sn.CreationDate),
					Steps: []step{onServer(c, "Delete the snapshot", client.Request{Method: http.MethodDelete, Path: path}, s.ID)}}
			})
		},
		Show: showDone("The snapshot of %s is deleted."),
	}
}

func ipList() op {
	return op{Name: "ip list", Summary: "The account's public IPs, where they are and their reverse DNS", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{sdk.String("search", "Text to look for").AsPositional()},
		Examples: []string{"/ionos ip list"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{Summary: "List public IPs", Steps: []step{everyPage(c, "List public IPs", "/public_ips", search(a))}}, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var list []publicIP
			if err := res[0].Decode(&list); err != nil {
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
	}
}

// ipRDNS says what the reverse DNS is now; that it still is at the run is
// a fact.
func ipRDNS() op {
	return op{Name: "ip rdns", Summary: "Set or clear the reverse DNS of a public IP", Risk: sdk.RiskLow,
		Params: []sdk.Param{sdk.IP("ip", "The address").AsRequired().AsPositional().AsResource(),
			sdk.String("name", "The host name; leave it out to clear").AsPositional()},
		Examples: []string{"/ionos ip rdns 203.0.113.30 web01.example.net", "/ionos ip rdns 203.0.113.30"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			ip, err := findIP(ctx, c, a.String("ip"))
			if err != nil {
				return nil, err
			}
			name := strings.TrimSuffix(a.String("name"), ".")
			if name != "" && !validHost(name) {
				return nil, sdk.BadArg("name", "%q is not a host name", name)
			}
			path, err := client.Path("public_ips", ip.ID)
			if err != nil {
				return nil, err
			}
			now := orDash(deref(ip.ReverseDNS))
			what := fmt.Sprintf("Set the reverse DNS of %s to %s (now %s)", ip.IP, name, now)
			if name == "" {
				what = fmt.Sprintf("Clear the reverse DNS of %s (now %s)", ip.IP, now)
			}
			return &work{Summary: what, Facts: []string{"the reverse DNS of " + ip.IP + " (" + ip.ID + ") is " + now},
				Steps: []step{call(c, "Set reverse DNS", client.Request{Method: http.MethodPut, Path: path, Body: map[string]any{"reverse_dns": name}})}}, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var ip publicIP
			if err := res[0].Decode(&ip); err != nil {
				return err
			}
			r.AddText("Reverse DNS of %s: %s", ip.IP, orDash(deref(ip.ReverseDNS)))
			return nil
		},
	}
}

func firewallList() op {
	return op{Name: "firewall list", Summary: "Firewall policies", Risk: sdk.RiskReadOnly,
		Examples: []string{"/ionos firewall list"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{Summary: "List firewall policies", Steps: []step{everyPage(c, "List policies", "/firewall_policies", nil)}}, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var list []struct {
				ID, Name, Description, State string
				Rules                        []json.RawMessage `json:"rules"`
				ServerIPs                    []struct {
					IP string `json:"ip"`
				} `json:"server_ips"`
			}
			if err := res[0].Decode(&list); err != nil {
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
	}
}

func firewallRules() op {
	return op{Name: "firewall rules", Summary: "The rules that apply to a server's IPs, or of one policy", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{sdk.String("server", "Server name or id, or a policy id").AsRequired().AsPositional()},
		Examples: []string{"/ionos firewall rules web01"},
		Work:     firewallRulesWork,
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			for _, d := range res {
				var rules []struct {
					Protocol    string `json:"protocol"`
					PortFrom    *int   `json:"port_from"`
					PortTo      *int   `json:"port_to"`
					Source      string `json:"source"`
					Action      string `json:"action"`
					Description string `json:"description"`
				}
				if err := d.Decode(&rules); err != nil {
					return err
				}
				t := r.AddTable("Rules", "protocol", "ports", "source", "action", "description")
				for _, x := range rules {
					t.Row(x.Protocol, ports(x.PortFrom, x.PortTo), x.Source, x.Action, x.Description)
				}
			}
			return nil
		},
	}
}

// firewallRulesWork reads one policy's rules, or those of every policy
// that applies to a server's IPs.
func firewallRulesWork(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
	ref := a.String("server")
	if idRE.MatchString(ref) {
		var f struct{ Name string }
		policy, _ := client.Path("firewall_policies", ref)
		rules, _ := client.Path("firewall_policies", ref, "rules")
		if _, err := c.Do(ctx, get(policy, nil), &f); err == nil {
			return &work{Summary: "Show the rules of policy " + f.Name, Steps: []step{call(c, "Read the rules", get(rules, nil))}}, nil
		}
	}
	s, err := findServer(ctx, c, ref)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	w := &work{Summary: "Show the firewall of " + s.label()}
	for _, ip := range s.IPs {
		if ip.FirewallPolicy == nil || seen[ip.FirewallPolicy.ID] {
			continue
		}
		seen[ip.FirewallPolicy.ID] = true
		rules, err := client.Path("firewall_policies", ip.FirewallPolicy.ID, "rules")
		if err != nil {
			return nil, err
		}
		w.Steps = append(w.Steps, call(c, "Read policy "+ip.FirewallPolicy.Name, get(rules, nil)))
	}
	if len(w.Steps) == 0 {
		return nil, sdk.BadArg("server", "no firewall policy applies to %s", s.Name)
	}
	return w, nil
}

func dvdList() op {
	return op{Name: "dvd list", Summary: "ISO images that can be mounted", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{sdk.String("search", "Text to look for").AsPositional()},
		Examples: []string{"/ionos dvd list ubuntu"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{Summary: "List ISO images", Steps: []step{everyPage(c, "List ISOs", "/dvd_isos", search(a))}}, nil
		},
		Show: tableOf("", "name", "id", "os", "os_version", "architecture"),
	}
}

// mounted names the ISO in a server's drive, for the facts of a change to it.
func mounted(s *server) string {
	if s.DVD == nil || s.DVD.ID == "" {
		return "its DVD drive is empty"
	}
	return "its DVD drive holds " + s.DVD.ID
}

func dvdMount() op {
	return op{Name: "dvd mount", Summary: "Mount an ISO in a server's DVD drive", Risk: sdk.RiskLow,
		Params:   []sdk.Param{serverP, sdk.String("iso", "ISO id (see /ionos dvd list)").AsRequired().AsPositional()},
		Examples: []string{"/ionos dvd mount web01 B675B070A3BB5C8D71B2129952F04BC8"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			path, err := client.Path("servers", s.ID, "dvd")
			if err != nil {
				return nil, err
			}
			return &work{Summary: fmt.Sprintf("Mount ISO %s in %s", a.String("iso"), s.label()), CheckWith: checkWith(s.Name),
				Notes: []string{"The server boots from it at its next restart."}, Facts: []string{s.state(), mounted(s)},
				Steps: []step{onServer(c, "Mount the ISO", client.Request{Method: http.MethodPut, Path: path, Body: map[string]any{"id": a.String("iso")}}, s.ID)}}, nil
		},
		Show: showDone("ISO mounted in %s."),
	}
}

func dvdUnmount() op {
	return op{Name: "dvd unmount", Summary: "Take the ISO out of a server's DVD drive", Risk: sdk.RiskLow, Params: []sdk.Param{serverP},
		Examples: []string{"/ionos dvd unmount web01"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			if s.DVD == nil || s.DVD.ID == "" {
				return nil, sdk.BadArg("server", "no ISO is mounted in %s", s.Name)
			}
			path, err := client.Path("servers", s.ID, "dvd")
			if err != nil {
				return nil, err
			}
			return &work{Summary: fmt.Sprintf("Unmount %s from %s", s.DVD.Name, s.label()), CheckWith: checkWith(s.Name), Facts: []string{s.state(), mounted(s)},
				Steps: []step{onServer(c, "Unmount the ISO", client.Request{Method: http.MethodDelete, Path: path}, s.ID)}}, nil
		},
		Show: showDone("The DVD drive of %s is empty."),
	}
}

func monitoring() op {
	return op{Name: "monitoring", Summary: "Monitoring center: alerts of all servers, or one server's usage", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{sdk.String("server", "One server").AsPositional(), periodParam()},
		Examples: []string{"/ionos monitoring", "/ionos monitoring web01 period=LAST_7D"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			if a.String("server") == "" {
				return &work{Summary: "Read the monitoring center", Steps: []step{call(c, "Read alerts", get("/monitoring_center", nil))}}, nil
			}
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			path, err := client.Path("monitoring_center", s.ID)
			if err != nil {
				return nil, err
			}
			return &work{Summary: "Read the monitoring of " + s.label(), Steps: []step{call(c, "Read usage", get(path, url.Values{"period": {a.String("period")}}))}}, nil
		},
		Show: showMonitoring,
	}
}

func showMonitoring(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
	var v any
	if err := res[0].Decode(&v); err != nil {
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
}

func logs() op {
	return op{Name: "logs", Summary: "Who did what on the account", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{sdk.String("search", "Text to look for").AsPositional(), periodParam()},
		Examples: []string{"/ionos logs", "/ionos logs web01 period=LAST_7D"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			q := search(a)
			q.Set("period", a.String("period"))
			return &work{Summary: "Read the account's logs", Steps: []step{everyPage(c, "Read logs", "/logs", q)}}, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
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
			if err := res[0].Decode(&list); err != nil {
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
	}
}

func datacenters() op {
	return op{Name: "datacenters", Summary: "Where servers can run", Risk: sdk.RiskReadOnly,
		Examples: []string{"/ionos datacenters"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{Summary: "List datacenters", Steps: []step{everyPage(c, "List datacenters", "/datacenters", nil)}}, nil
		},
		Show: tableOf("", "location", "country_code", "id"),
	}
}

func appliances() op {
	return op{Name: "appliances", Summary: "Images to install or to rescue a server with", Risk: sdk.RiskReadOnly,
		Params: []sdk.Param{sdk.String("search", "Text to look for").AsPositional(),
			sdk.Enum("kind", "Server images or recovery systems", "server", "recovery").WithDefault("server")},
		Examples: []string{"/ionos appliances centos", "/ionos appliances kind=recovery"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{Summary: "List " + a.String("kind") + " appliances", Steps: []step{everyPage(c, "List appliances", "/"+a.String("kind")+"_appliances", search(a))}}, nil
		},
		Show: tableOf("", "name", "id", "os", "os_version", "architecture"),
	}
}

// search is the query of a list that takes search text.
func search(a sdk.Args) url.Values {
	q := url.Values{}
	if s := a.String("search"); s != "" {
		q.Set("q", s)
	}
	return q
}

// showDone says, in format with the server's name, that followed work is
// done; work still running says so itself.
func showDone(format string) func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
	return func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
		if !res[0].Still {
			r.AddText(format, a.String("server"))
		}
		return nil
	}
}

// tableOf renders a list answer as a table of the given fields.
func tableOf(title string, cols ...string) func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
	return func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
		var list []map[string]any
		if err := res[0].Decode(&list); err != nil {
			return err
		}
		if len(list) == 0 {
			r.AddText("None.")
			return nil
		}
		// A copy: the SDK masks the result's columns in place, and cols is
		// every call's.
		t := r.AddTable(title, slices.Clone(cols)...)
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
