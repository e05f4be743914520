package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/deskbot/deskbot/plugins/ionos/client"
	"github.com/deskbot/deskbot/sdk"
)

// server is what the commands read of a server. first_password is not
// decoded at all: nothing here can show it.
type server struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	ServerType  string `json:"server_type"`
	Created     string `json:"creation_date"`
	Status      struct {
		State   string `json:"state"`
		Percent *int   `json:"percent"`
	} `json:"status"`
	Datacenter struct {
		Location    string `json:"location"`
		CountryCode string `json:"country_code"`
	} `json:"datacenter"`
	Hardware hardware `json:"hardware"`
	Image    *ref     `json:"image"`
	DVD      *ref     `json:"dvd"`
	Snapshot *struct {
		ID           string `json:"id"`
		CreationDate string `json:"creation_date"`
		DeletionDate string `json:"deletion_date"`
	} `json:"snapshot"`
	IPs []serverIP `json:"ips"`
}

type ref struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type hardware struct {
	FixedInstanceSizeID any     `json:"fixed_instance_size_id"`
	Vcore               int     `json:"vcore"`
	CoresPerProcessor   int     `json:"cores_per_processor"`
	RAM                 float64 `json:"ram"`
	HDDs                []struct {
		ID     string `json:"id"`
		Size   int    `json:"size"`
		IsMain bool   `json:"is_main"`
	} `json:"hdds"`
}

type serverIP struct {
	ID             string `json:"id"`
	IP             string `json:"ip"`
	Type           string `json:"type"`
	ReverseDNS     string `json:"reverse_dns"`
	FirewallPolicy *ref   `json:"firewall_policy"`
}

func (s *server) ips() string {
	var out []string
	for _, ip := range s.IPs {
		out = append(out, ip.IP)
	}
	return strings.Join(out, ", ")
}

func (h hardware) size() string {
	disk := 0
	for _, d := range h.HDDs {
		disk += d.Size
	}
	return fmt.Sprintf("%d vCPU, %s GB RAM, %d GB disk", h.Vcore*max(1, h.CoresPerProcessor), strconv.FormatFloat(h.RAM, 'f', -1, 64), disk)
}

func (s *server) label() string { return fmt.Sprintf("%s (%s, %s)", s.Name, s.ID, s.Status.State) }

var idRE = regexp.MustCompile(`^[0-9A-Fa-f]{32}$`)

// findServer resolves a server by id or by name; a name that matches none
// gets the closest names, one that matches several gets their ids.
func findServer(ctx context.Context, c *client.Client, refName string) (*server, error) {
	if idRE.MatchString(refName) {
		var s server
		_, err := c.Do(ctx, get("/servers/"+strings.ToUpper(refName), nil), &s)
		if client.NotFound(err) {
			return nil, sdk.BadArg("server", "there is no server with id %s", refName)
		}
		if err != nil {
			return nil, err
		}
		return &s, nil
	}
	var all []server
	if err := c.List(ctx, "/servers", url.Values{"q": {refName}}, 100, &all); err != nil {
		return nil, err
	}
	var hits []server
	for _, s := range all {
		if strings.EqualFold(s.Name, refName) {
			hits = append(hits, s)
		}
	}
	switch len(hits) {
	case 1:
		return &hits[0], nil
	case 0:
		var names []string
		if err := c.List(ctx, "/servers", url.Values{"fields": {"name"}}, 100, &all); err == nil {
			for _, s := range all {
				names = append(names, s.Name)
			}
		}
		msg := fmt.Sprintf("there is no server called %q", refName)
		if sug := sdk.Suggest(refName, names); len(sug) > 0 {
			msg += "; did you mean " + strings.Join(sug, " or ") + "?"
		}
		return nil, sdk.BadArg("server", "%s", msg)
	}
	var ids []string
	for _, s := range hits {
		ids = append(ids, s.ID)
	}
	return nil, sdk.BadArg("server", "%d servers are called %q; name one by id: %s", len(hits), refName, strings.Join(ids, ", "))
}

var serverP = sdk.String("server", "Server name or id").AsRequired().AsPositional()

func decodeOne(d done, v any) error {
	if len(d.resp.Body) == 0 {
		return nil
	}
	return json.Unmarshal(d.resp.Body, v)
}

func registerServers(p *sdk.Plugin) {
	register(p, op{name: "server list", summary: "Servers, with state, size and IPs", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{sdk.String("search", "Text to look for anywhere in the server").AsPositional()},
		examples: []string{"/ionos server list", "/ionos server list web"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			q := url.Values{"sort": {"name"}}
			if s := a.String("search"); s != "" {
				q.Set("q", s)
			}
			return &work{summary: "List servers", steps: []step{{req: get("/servers", q), what: "List servers", all: true}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			// One page came back; read them all for the table.
			var list []server
			if err := decodeOne(res[0], &list); err != nil {
				return err
			}
			if len(list) == 0 {
				r.AddText("No server matches.")
				return nil
			}
			t := r.AddTable(fmt.Sprintf("%d servers", len(list)), "name", "id", "state", "size", "ips", "datacenter")
			for _, s := range list {
				t.Row(s.Name, s.ID, s.Status.State, s.Hardware.size(), s.ips(), s.Datacenter.Location)
			}
			return nil
		},
	})
	one := func(name, summary, suffix, what string, show func(s *server, d done, r *sdk.Result) error) {
		register(p, op{name: name, summary: summary, risk: sdk.RiskReadOnly, params: []sdk.Param{serverP},
			examples: []string{"/ionos " + name + " web01"},
			plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
				s, err := findServer(ctx, c, a.String("server"))
				if err != nil {
					return nil, err
				}
				return &work{summary: what + " of " + s.label(), label: s.Name, steps: []step{{req: get("/servers/"+s.ID+suffix, nil), what: what}}}, nil
			},
			show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
				var s server
				if suffix == "" {
					if err := decodeOne(res[0], &s); err != nil {
						return err
					}
				}
				return show(&s, res[0], r)
			},
		})
	}
	one("server info", "One server: state, size, image, IPs, DVD, snapshot", "", "Read the server", func(s *server, d done, r *sdk.Result) error {
		kv := []string{"Name", s.Name, "Id", s.ID, "State", statusOf(s), "Type", s.ServerType, "Size", s.Hardware.size(),
			"Datacenter", s.Datacenter.Location, "Created", s.Created}
		if s.Image != nil {
			kv = append(kv, "Image", s.Image.Name)
		}
		kv = append(kv, "IPs", s.ips())
		if s.DVD != nil && s.DVD.Name != "" {
			kv = append(kv, "DVD", s.DVD.Name)
		}
		if s.Snapshot != nil && s.Snapshot.ID != "" {
			kv = append(kv, "Snapshot", s.Snapshot.CreationDate+" (deleted "+s.Snapshot.DeletionDate+")")
		}
		if s.Description != "" {
			kv = append(kv, "Description", s.Description)
		}
		r.AddKeyValues("Server "+s.Name, kv...)
		return nil
	})
	one("server status", "A server's state and progress", "/status", "Read the state", func(_ *server, d done, r *sdk.Result) error {
		var st client.Status
		if err := decodeOne(d, &st); err != nil {
			return err
		}
		r.AddText("%s", statusText(st))
		return nil
	})
	one("server hardware", "A server's processors, memory and disks", "/hardware", "Read the hardware", func(_ *server, d done, r *sdk.Result) error {
		var h hardware
		if err := decodeOne(d, &h); err != nil {
			return err
		}
		kv := []string{"vCPU", strconv.Itoa(h.Vcore), "Cores per processor", strconv.Itoa(h.CoresPerProcessor), "RAM (GB)", strconv.FormatFloat(h.RAM, 'f', -1, 64)}
		if h.FixedInstanceSizeID != nil {
			kv = append(kv, "Fixed size", fmt.Sprint(h.FixedInstanceSizeID))
		}
		r.AddKeyValues("Hardware", kv...)
		t := r.AddTable("Disks", "id", "size (GB)", "main")
		for _, disk := range h.HDDs {
			t.Row(disk.ID, strconv.Itoa(disk.Size), yesNo(disk.IsMain))
		}
		return nil
	})
	one("server ips", "A server's IPs, reverse DNS and firewall", "/ips", "List the IPs", func(_ *server, d done, r *sdk.Result) error {
		var ips []serverIP
		if err := decodeOne(d, &ips); err != nil {
			return err
		}
		t := r.AddTable("", "ip", "id", "type", "reverse dns", "firewall")
		for _, ip := range ips {
			fw := ""
			if ip.FirewallPolicy != nil {
				fw = ip.FirewallPolicy.Name
			}
			t.Row(ip.IP, ip.ID, ip.Type, ip.ReverseDNS, fw)
		}
		return nil
	})
	one("server image", "The image a server runs", "/image", "Read the image", func(_ *server, d done, r *sdk.Result) error {
		var im ref
		if err := decodeOne(d, &im); err != nil {
			return err
		}
		r.AddKeyValues("Image", "Name", im.Name, "Id", im.ID)
		return nil
	})

	power := func(name, action, summary string, risk sdk.Risk, note string) {
		params := []sdk.Param{serverP}
		if action != "POWER_ON" {
			params = append(params, sdk.EnumOf("method", "SOFTWARE asks the system to stop; HARDWARE cuts it like a power button",
				sdk.EnumValue{Value: "software", Aliases: []string{"soft", "graceful"}}, sdk.EnumValue{Value: "hardware", Aliases: []string{"hard", "force"}}).WithDefault("software"))
		}
		register(p, op{name: name, summary: summary, risk: risk, params: params,
			examples: []string{"/ionos " + name + " web01"},
			plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
				s, err := findServer(ctx, c, a.String("server"))
				if err != nil {
					return nil, err
				}
				body := map[string]any{"action": action}
				how := ""
				if action != "POWER_ON" {
					body["method"] = strings.ToUpper(a.String("method"))
					how = " (" + strings.ToLower(a.String("method")) + ")"
				}
				switch {
				case action == "POWER_ON" && s.Status.State == "POWERED_ON":
					return nil, sdk.BadArg("server", "%s is already powered on", s.Name)
				case action == "POWER_OFF" && s.Status.State == "POWERED_OFF":
					return nil, sdk.BadArg("server", "%s is already powered off", s.Name)
				case action == "REBOOT" && s.Status.State == "POWERED_OFF":
					return nil, sdk.BadArg("server", "%s is powered off; power it on instead", s.Name)
				}
				w := &work{summary: summary + how + ": " + s.label(), label: s.Name, steps: []step{{
					req:  client.Request{Method: http.MethodPut, Path: "/servers/" + s.ID + "/status/action", Body: body},
					what: summary, follow: "/servers/" + s.ID + "/status"}}}
				if note != "" {
					w.notes = append(w.notes, note)
				}
				return w, nil
			},
			show: showFinal("server"),
		})
	}
	power("server on", "POWER_ON", "Power on", sdk.RiskLow, "")
	power("server off", "POWER_OFF", "Power off", sdk.RiskHigh, "Everything on the server stops until it is powered on.")
	power("server reboot", "REBOOT", "Reboot", sdk.RiskHigh, "The server is unreachable while it restarts.")

	register(p, op{name: "server resize", summary: "Change a server's processors and memory", risk: sdk.RiskCritical,
		help: "Give a fixed size (size=ID, see /ionos call list servers fixed_instance_sizes) or vcore, cores and ram. The server may restart; the bill changes.",
		params: []sdk.Param{serverP, sdk.String("size", "A fixed instance size id"),
			sdk.Int("vcore", "Processors").Between(1, 16), sdk.Int("cores", "Cores per processor").Between(1, 16), sdk.String("ram", "Memory in GB (halves allowed: 1.5)")},
		examples: []string{"/ionos server resize web01 vcore=4 cores=1 ram=8"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			body := map[string]any{}
			var to string
			switch {
			case a.Has("size"):
				body["fixed_instance_size_id"] = a.String("size")
				to = "fixed size " + a.String("size")
			case a.Has("vcore") || a.Has("cores") || a.Has("ram"):
				ram, err := strconv.ParseFloat(a.String("ram"), 64)
				if !a.Has("ram") || err != nil {
					return nil, sdk.BadArg("ram", "give the memory in GB, like ram=8")
				}
				body["vcore"], body["cores_per_processor"], body["ram"] = a.Int("vcore"), max(1, a.Int("cores")), ram
				if !a.Has("vcore") {
					body["vcore"] = int64(s.Hardware.Vcore)
				}
				to = fmt.Sprintf("%v vCPU × %v cores, %s GB RAM", body["vcore"], body["cores_per_processor"], a.String("ram"))
			default:
				return nil, sdk.BadArg("size", "give size=ID or vcore, cores and ram")
			}
			op, _ := c.Catalog().Get("put servers hardware")
			if err := op.ValidateBody(jsonish(body)); err != nil {
				return nil, sdk.BadArg("ram", "%v", err)
			}
			return &work{summary: fmt.Sprintf("Resize %s from %s to %s", s.label(), s.Hardware.size(), to), label: s.Name,
				notes: []string{"The server may restart, and the bill changes."},
				steps: []step{{req: client.Request{Method: http.MethodPut, Path: "/servers/" + s.ID + "/hardware", Body: body}, what: "Resize", follow: "/servers/" + s.ID + "/status"}}}, nil
		},
		show: showFinal("server"),
	})
	register(p, op{name: "server reinstall", summary: "Reinstall a server from an image: its disk is wiped", risk: sdk.RiskCritical,
		params: []sdk.Param{serverP, sdk.String("image", "Image or appliance id (see /ionos appliances)").AsRequired(),
			sdk.String("password", "New root password").AsSensitive()},
		examples: []string{"/ionos server reinstall staging image=B5F778B85C041347BCDCFC3172AB3F3C"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			body := map[string]any{"id": a.String("image")}
			if pw := a.String("password"); pw != "" {
				body["password"] = pw
			}
			op, _ := c.Catalog().Get("put servers image")
			if err := op.ValidateBody(body); err != nil {
				return nil, sdk.BadArg("password", "%v", err)
			}
			cur := ""
			if s.Image != nil {
				cur = s.Image.Name
			}
			return &work{summary: fmt.Sprintf("Reinstall %s (now %s) from image %s", s.label(), cur, a.String("image")), label: s.Name,
				notes: []string{"Everything on its disk is lost."},
				steps: []step{{req: client.Request{Method: http.MethodPut, Path: "/servers/" + s.ID + "/image", Body: body}, what: "Reinstall", follow: "/servers/" + s.ID + "/status"}}}, nil
		},
		show: showFinal("server"),
	})
	register(p, op{name: "server delete", summary: "Delete a server", risk: sdk.RiskCritical,
		params:   []sdk.Param{serverP, sdk.Bool("keep_ips", "Keep its public IPs").WithDefault("yes")},
		examples: []string{"/ionos server delete staging"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			q := url.Values{"keep_ips": {strconv.FormatBool(a.Bool("keep_ips"))}}
			w := &work{summary: fmt.Sprintf("Delete %s, %s, with its disks", s.label(), s.Hardware.size()), label: s.Name,
				steps: []step{{req: client.Request{Method: http.MethodDelete, Path: "/servers/" + s.ID, Query: q}, what: "Delete the server", gone: "/servers/" + s.ID, follow: "/servers/" + s.ID + "/status"}}}
			if a.Bool("keep_ips") {
				w.notes = append(w.notes, "Its IPs ("+s.ips()+") are kept.")
			} else {
				w.notes = append(w.notes, "Its IPs ("+s.ips()+") are released.")
			}
			return w, nil
		},
		show: func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
			if res[0].final == "REMOVED" {
				r.AddText("Server %s is deleted.", a.String("server"))
			}
			return nil
		},
	})
}

// jsonish turns Go numbers into what JSON decoding gives, for schema checks.
func jsonish(v any) any {
	b, _ := json.Marshal(v)
	var out any
	dec := json.NewDecoder(bytes.NewReader(b))
	_ = dec.Decode(&out)
	return out
}

func statusOf(s *server) string {
	if s.Status.Percent != nil && *s.Status.Percent > 0 {
		return fmt.Sprintf("%s %d%%", s.Status.State, *s.Status.Percent)
	}
	return s.Status.State
}

// showFinal reports where followed work ended.
func showFinal(what string) func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
	return func(c *client.Client, a sdk.Args, res []done, r *sdk.Result) error {
		d := res[len(res)-1]
		if d.still {
			return nil
		}
		if d.final != "" {
			r.AddText("%s %s is %s.", strings.ToUpper(what[:1])+what[1:], a.String(what), d.final)
			return nil
		}
		r.AddText("Done.")
		return nil
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
