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
		path, err := client.Path("servers", strings.ToUpper(refName))
		if err != nil {
			return nil, err
		}
		_, err = c.Do(ctx, get(path, nil), &s)
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

var serverP = sdk.String("server", "Server name or id").AsRequired().AsPositional().AsResource()

func registerServers(p *sdk.Plugin) {
	declare(p,
		serverList(),
		serverRead("server info", "One server: state, size, image, IPs, DVD, snapshot", "", "Read the server", showServerInfo),
		serverRead("server status", "A server's state and progress", "status", "Read the state", showServerStatus),
		serverRead("server hardware", "A server's processors, memory and disks", "hardware", "Read the hardware", showServerHardware),
		serverRead("server ips", "A server's IPs, reverse DNS and firewall", "ips", "List the IPs", showServerIPs),
		serverRead("server image", "The image a server runs", "image", "Read the image", showServerImage),
		power("server on", "POWER_ON", "Power on", sdk.RiskLow, ""),
		power("server off", "POWER_OFF", "Power off", sdk.RiskHigh, "Everything on the server stops until it is powered on."),
		power("server reboot", "REBOOT", "Reboot", sdk.RiskHigh, "The server is unreachable while it restarts."),
		serverResize(),
		serverReinstall(),
		serverDelete(),
	)
}

// state is what every change to a server is planned from: the server as
// the plan names it, in the state the approver saw.
func (s *server) state() string {
	return fmt.Sprintf("server %s (%s) is %s", s.Name, s.ID, s.Status.State)
}

func serverList() op {
	return op{Name: "server list", Summary: "Servers, with state, size and IPs", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{sdk.String("search", "Text to look for anywhere in the server").AsPositional()},
		Examples: []string{"/ionos server list", "/ionos server list web"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			q := url.Values{"sort": {"name"}}
			if s := a.String("search"); s != "" {
				q.Set("q", s)
			}
			return &work{Summary: "List servers", Steps: []step{everyPage(c, "List servers", "/servers", q)}}, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var list []server
			if err := res[0].Decode(&list); err != nil {
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
	}
}

// serverRead is a command that reads one thing of a server: the server
// itself (suffix "") or /servers/ID/suffix.
func serverRead(name, summary, suffix, what string, show func(s *server, res *client.Result, r *sdk.Result) error) op {
	return op{Name: name, Summary: summary, Risk: sdk.RiskReadOnly, Params: []sdk.Param{serverP},
		Examples: []string{"/ionos " + name + " web01"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			segs := []string{"servers", s.ID}
			if suffix != "" {
				segs = append(segs, suffix)
			}
			path, err := client.Path(segs...)
			if err != nil {
				return nil, err
			}
			return &work{Summary: what + " of " + s.label(), Steps: []step{call(c, what, get(path, nil))}}, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var s server
			if suffix == "" {
				if err := res[0].Decode(&s); err != nil {
					return err
				}
			}
			return show(&s, res[0], r)
		},
	}
}

func showServerInfo(s *server, _ *client.Result, r *sdk.Result) error {
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
}

func showServerStatus(_ *server, res *client.Result, r *sdk.Result) error {
	var st client.Status
	if err := res.Decode(&st); err != nil {
		return err
	}
	r.AddText("%s", statusText(st))
	return nil
}

func showServerHardware(_ *server, res *client.Result, r *sdk.Result) error {
	var h hardware
	if err := res.Decode(&h); err != nil {
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
}

func showServerIPs(_ *server, res *client.Result, r *sdk.Result) error {
	var ips []serverIP
	if err := res.Decode(&ips); err != nil {
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
}

func showServerImage(_ *server, res *client.Result, r *sdk.Result) error {
	var im ref
	if err := res.Decode(&im); err != nil {
		return err
	}
	r.AddKeyValues("Image", "Name", im.Name, "Id", im.ID)
	return nil
}

// power is a power action. Whether it makes sense depends on the server's
// state, so the state is one of the plan's facts.
func power(name, action, summary string, risk sdk.Risk, note string) op {
	params := []sdk.Param{serverP}
	if action != "POWER_ON" {
		params = append(params, sdk.EnumOf("method", "SOFTWARE asks the system to stop; HARDWARE cuts it like a power button",
			sdk.EnumValue{Value: "software", Aliases: []string{"soft", "graceful"}}, sdk.EnumValue{Value: "hardware", Aliases: []string{"hard", "force"}}).WithDefault("software"))
	}
	return op{Name: name, Summary: summary, Risk: risk, Params: params,
		Examples: []string{"/ionos " + name + " web01"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			switch {
			case action == "POWER_ON" && s.Status.State == "POWERED_ON":
				return nil, sdk.BadArg("server", "%s is already powered on", s.Name)
			case action == "POWER_OFF" && s.Status.State == "POWERED_OFF":
				return nil, sdk.BadArg("server", "%s is already powered off", s.Name)
			case action == "REBOOT" && s.Status.State == "POWERED_OFF":
				return nil, sdk.BadArg("server", "%s is powered off; power it on instead", s.Name)
			}
			body := map[string]any{"action": action}
			how := ""
			if action != "POWER_ON" {
				body["method"] = strings.ToUpper(a.String("method"))
				how = " (" + strings.ToLower(a.String("method")) + ")"
			}
			path, err := client.Path("servers", s.ID, "status", "action")
			if err != nil {
				return nil, err
			}
			w := &work{Summary: summary + how + ": " + s.label(), CheckWith: checkWith(s.Name), Facts: []string{s.state()},
				Steps: []step{followed(c, summary, client.Request{Method: http.MethodPut, Path: path, Body: body}, untilState(c, s.ID, targetOf(action)))}}
			if note != "" {
				w.Notes = append(w.Notes, note)
			}
			return w, nil
		},
		Show: showFinal("server"),
	}
}

// serverResize plans from the server's current size (its vCPUs, unless
// given, and the "from" the approver reads): the size is a fact.
func serverResize() op {
	return op{Name: "server resize", Summary: "Change a server's processors and memory", Risk: sdk.RiskCritical,
		Help: "Give a fixed size (size=ID, see /ionos call list servers fixed_instance_sizes) or vcore, cores and ram. The server may restart; the bill changes.",
		Params: []sdk.Param{serverP, sdk.String("size", "A fixed instance size id"),
			sdk.Int("vcore", "Processors").Between(1, 16), sdk.Int("cores", "Cores per processor").Between(1, 16), sdk.String("ram", "Memory in GB (halves allowed: 1.5)")},
		Examples: []string{"/ionos server resize web01 vcore=4 cores=1 ram=8"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			body, to, err := newSize(s, a)
			if err != nil {
				return nil, err
			}
			path, err := client.Path("servers", s.ID, "hardware")
			if err != nil {
				return nil, err
			}
			spec, _ := c.Catalog().Get("put servers hardware")
			if err := spec.ValidateBody(jsonish(body)); err != nil {
				return nil, sdk.BadArg("ram", "%v", err)
			}
			return &work{Summary: fmt.Sprintf("Resize %s from %s to %s", s.label(), s.Hardware.size(), to), CheckWith: checkWith(s.Name),
				Notes: []string{"The server may restart, and the bill changes."},
				Facts: []string{s.state(), "its size is " + s.Hardware.size()},
				Steps: []step{onServer(c, "Resize", client.Request{Method: http.MethodPut, Path: path, Body: body}, s.ID)}}, nil
		},
		Show: showFinal("server"),
	}
}

// newSize reads the size a resize asks for: the body to send, and the size
// in words.
func newSize(s *server, a sdk.Args) (body map[string]any, to string, err error) {
	body = map[string]any{}
	switch {
	case a.Has("size"):
		body["fixed_instance_size_id"] = a.String("size")
		return body, "fixed size " + a.String("size"), nil
	case a.Has("vcore") || a.Has("cores") || a.Has("ram"):
		ram, err := strconv.ParseFloat(a.String("ram"), 64)
		if !a.Has("ram") || err != nil {
			return nil, "", sdk.BadArg("ram", "give the memory in GB, like ram=8")
		}
		body["vcore"], body["cores_per_processor"], body["ram"] = a.Int("vcore"), max(1, a.Int("cores")), ram
		if !a.Has("vcore") {
			body["vcore"] = int64(s.Hardware.Vcore)
		}
		return body, fmt.Sprintf("%v vCPU × %v cores, %s GB RAM", body["vcore"], body["cores_per_processor"], a.String("ram")), nil
	}
	return nil, "", sdk.BadArg("size", "give size=ID or vcore, cores and ram")
}

func serverReinstall() op {
	return op{Name: "server reinstall", Summary: "Reinstall a server from an image: its disk is wiped", Risk: sdk.RiskCritical,
		Params: []sdk.Param{serverP, sdk.String("image", "Image or appliance id (see /ionos appliances)").AsRequired(),
			sdk.String("password", "New root password").AsSensitive()},
		Examples: []string{"/ionos server reinstall staging image=B5F778B85C041347BCDCFC3172AB3F3C"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			body := map[string]any{"id": a.String("image")}
			if pw := a.String("password"); pw != "" {
				body["password"] = pw
			}
			path, err := client.Path("servers", s.ID, "image")
			if err != nil {
				return nil, err
			}
			spec, _ := c.Catalog().Get("put servers image")
			if err := spec.ValidateBody(body); err != nil {
				return nil, sdk.BadArg("password", "%v", err)
			}
			cur := ""
			if s.Image != nil {
				cur = s.Image.Name
			}
			return &work{Summary: fmt.Sprintf("Reinstall %s (now %s) from image %s", s.label(), cur, a.String("image")), CheckWith: checkWith(s.Name),
				Notes: []string{"Everything on its disk is lost."},
				Facts: []string{s.state(), "it runs " + orDash(cur)},
				Steps: []step{onServer(c, "Reinstall", client.Request{Method: http.MethodPut, Path: path, Body: body}, s.ID)}}, nil
		},
		Show: showFinal("server"),
	}
}

func serverDelete() op {
	return op{Name: "server delete", Summary: "Delete a server", Risk: sdk.RiskCritical,
		Params:   []sdk.Param{serverP, sdk.Bool("keep_ips", "Keep its public IPs").WithDefault("yes")},
		Examples: []string{"/ionos server delete staging"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s, err := findServer(ctx, c, a.String("server"))
			if err != nil {
				return nil, err
			}
			q := url.Values{"keep_ips": {strconv.FormatBool(a.Bool("keep_ips"))}}
			path, err := client.Path("servers", s.ID)
			if err != nil {
				return nil, err
			}
			req := client.Request{Method: http.MethodDelete, Path: path, Query: q}
			w := &work{Summary: fmt.Sprintf("Delete %s, %s, with its disks", s.label(), s.Hardware.size()), CheckWith: checkWith(s.Name),
				Facts: []string{s.state(), "its size is " + s.Hardware.size(), "its IPs are " + s.ips()},
				Steps: []step{followed(c, "Delete the server", req, untilGone(c, s.ID))}}
			if a.Bool("keep_ips") {
				w.Notes = append(w.Notes, "Its IPs ("+s.ips()+") are kept.")
			} else {
				w.Notes = append(w.Notes, "Its IPs ("+s.ips()+") are released.")
			}
			return w, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			if res[0].Final == "REMOVED" {
				r.AddText("Server %s is deleted.", a.String("server"))
			}
			return nil
		},
	}
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
func showFinal(what string) func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
	return func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
		d := res[len(res)-1]
		if d.Still {
			return nil
		}
		if d.Final != "" {
			r.AddText("%s %s is %s.", strings.ToUpper(what[:1])+what[1:], a.String(what), d.Final)
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
