package provider

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/deskbot/deskbot/plugins/whm/client"
	"github.com/deskbot/deskbot/sdk"
)

// zoneRecord is one line of a zone as parse_dns_zone gives it, decoded.
type zoneRecord struct {
	Line int
	Name string
	TTL  string
	Type string
	Data []string
}

func (z zoneRecord) String() string {
	return fmt.Sprintf("line %d: %s %s %s %s", z.Line, z.Name, z.TTL, z.Type, strings.Join(z.Data, " "))
}

// readZone reads a zone's records; names and data come base64-encoded.
func readZone(res *client.Result) ([]zoneRecord, error) {
	var d []struct {
		LineIndex  int      `json:"line_index"`
		Type       string   `json:"type"`
		RecordType string   `json:"record_type"`
		TTL        any      `json:"ttl"`
		DnameB64   string   `json:"dname_b64"`
		DataB64    []string `json:"data_b64"`
	}
	if err := res.Decode(&d); err != nil {
		return nil, err
	}
	var out []zoneRecord
	for _, x := range d {
		if x.Type != "record" {
			continue
		}
		name, err := base64.StdEncoding.DecodeString(x.DnameB64)
		if err != nil {
			return nil, fmt.Errorf("parse_dns_zone: a record name is not base64: %v", err)
		}
		z := zoneRecord{Line: x.LineIndex + 1, Name: string(name), Type: x.RecordType}
		z.TTL, _ = scalarText(x.TTL)
		if f, ok := x.TTL.(float64); ok {
			z.TTL = strconv.FormatFloat(f, 'f', -1, 64)
		}
		for _, b := range x.DataB64 {
			v, err := base64.StdEncoding.DecodeString(b)
			if err != nil {
				return nil, fmt.Errorf("parse_dns_zone: record data is not base64: %v", err)
			}
			z.Data = append(z.Data, string(v))
		}
		out = append(out, z)
	}
	return out, nil
}

func zoneOf(ctx context.Context, c *client.Client, domain string) ([]zoneRecord, error) {
	res, err := c.Call(ctx, "parse_dns_zone", client.Args{"zone": {domain}}, nil)
	if err != nil {
		return nil, err
	}
	return readZone(res)
}

var recordTypes = []string{"A", "AAAA", "CNAME", "MX", "TXT"}

func registerDNS(p *sdk.Plugin) {
	domainP := sdk.Domain("domain", "The zone's domain").AsRequired().AsPositional()
	register(p, op{name: "dns zones", summary: "DNS zones on the server", risk: sdk.RiskReadOnly,
		examples: []string{"/whm dns zones"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "List DNS zones", calls: []wcall{call("listzones", "List zones")}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d struct {
				Zone []record `json:"zone"`
			}
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			t := r.AddTable(fmt.Sprintf("%d zones", len(d.Zone)), "domain", "zone file")
			for _, z := range d.Zone {
				t.Row(z.s("domain"), z.s("zonefile"))
			}
			return nil
		},
	})
	register(p, op{name: "dns zone", summary: "A domain's DNS records", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{domainP},
		examples: []string{"/whm dns zone demo1.example"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "Show the DNS zone of " + a.String("domain"), calls: []wcall{call("parse_dns_zone", "Read the zone", "zone", a.String("domain"))}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			recs, err := readZone(res[0])
			if err != nil {
				return err
			}
			t := r.AddTable("Zone "+a.String("domain"), "line", "name", "ttl", "type", "data")
			for _, z := range recs {
				t.Row(strconv.Itoa(z.Line), z.Name, z.TTL, z.Type, strings.Join(z.Data, " "))
			}
			return nil
		},
	})
	register(p, op{name: "dns record add", summary: "Add a DNS record", risk: sdk.RiskHigh,
		help: "VALUE is the address (A, AAAA), the target name (CNAME), \"PRIORITY HOST\" (MX) or the text (TXT). NAME is relative to the domain (www) or ends with a dot; @ is the domain itself.",
		params: []sdk.Param{
			domainP,
			sdk.String("name", "Record name: www, @, or a full name ending with a dot").AsRequired().AsPositional(),
			sdk.Enum("type", "Record type", recordTypes...).AsRequired().AsPositional(),
			sdk.String("value", "Record data").AsRequired().AsPositional(),
			sdk.Int("ttl", "Time to live in seconds").Between(60, 604800).WithDefault("14400"),
		},
		examples: []string{"/whm dns record add demo1.example shop A 203.0.113.50", "/whm dns record add demo1.example @ MX \"10 mx.mailhost.example.\""},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			d, name, typ, val := a.String("domain"), a.String("name"), strings.ToUpper(a.String("type")), strings.TrimSpace(a.String("value"))
			kv := []string{"domain", d, "name", name, "type", typ, "class", "IN", "ttl", strconv.FormatInt(a.Int("ttl"), 10)}
			switch typ {
			case "A", "AAAA":
				ip := net.ParseIP(val)
				if ip == nil || (typ == "A") != (ip.To4() != nil) {
					return nil, sdk.BadArg("value", "%q is not an %s address", val, map[string]string{"A": "IPv4", "AAAA": "IPv6"}[typ])
				}
				kv = append(kv, "address", val)
			case "CNAME":
				kv = append(kv, "cname", val)
			case "MX":
				f := strings.Fields(val)
				if len(f) != 2 {
					return nil, sdk.BadArg("value", "an MX value is \"PRIORITY HOST\", like \"10 mx.example.com.\"")
				}
				if n, err := strconv.Atoi(f[0]); err != nil || n < 0 || n > 65535 {
					return nil, sdk.BadArg("value", "MX priority %q is not a number from 0 to 65535", f[0])
				}
				kv = append(kv, "preference", f[0], "exchange", f[1])
			case "TXT":
				kv = append(kv, "txtdata", val)
			}
			recs, err := zoneOf(ctx, c, d)
			if err != nil {
				return nil, err
			}
			w := &work{summary: fmt.Sprintf("Add to %s: %s %d %s %s", d, name, a.Int("ttl"), typ, val),
				calls: []wcall{call("addzonerecord", "Add the record", kv...)}}
			full := fullName(name, d)
			for _, z := range recs {
				if strings.EqualFold(z.Name, full) && (z.Type == "CNAME" || typ == "CNAME") {
					return nil, sdk.BadArg("name", "%s already has a %s record (%s); a CNAME cannot share its name", full, z.Type, z)
				}
				if strings.EqualFold(z.Name, full) && z.Type == typ {
					w.notes = append(w.notes, "The zone already has "+z.String()+"; the new record is added beside it.")
				}
			}
			return w, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("Record added to %s.", a.String("domain"))
			return nil
		},
	})
	register(p, op{name: "dns record remove", summary: "Remove one DNS record, by its line in the zone", risk: sdk.RiskCritical,
		aliases:  []string{"dns record delete"},
		help:     "Find the line with `/whm dns zone DOMAIN`. The plan shows the record that will go.",
		params:   []sdk.Param{domainP, sdk.Int("line", "The record's line").AsRequired().AsPositional().AtLeast(1)},
		examples: []string{"/whm dns record remove demo1.example 8"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			d, line := a.String("domain"), int(a.Int("line"))
			recs, err := zoneOf(ctx, c, d)
			if err != nil {
				return nil, err
			}
			var rec *zoneRecord
			for i := range recs {
				if recs[i].Line == line {
					rec = &recs[i]
				}
			}
			if rec == nil {
				return nil, sdk.BadArg("line", "the zone of %s has no record on line %d; see /whm dns zone %s", d, line, d)
			}
			if rec.Type == "SOA" {
				return nil, sdk.BadArg("line", "line %d is the SOA record, which a zone cannot lose", line)
			}
			w := &work{summary: fmt.Sprintf("Remove from %s: %s", d, rec), calls: []wcall{call("removezonerecord", "Remove the record", "zone", d, "line", strconv.Itoa(line))}}
			if rec.Type == "NS" {
				w.notes = append(w.notes, "This is a name server record: removing it can make the domain unresolvable.")
			}
			return w, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("Line %d removed from %s.", a.Int("line"), a.String("domain"))
			return nil
		},
	})
	register(p, op{name: "dns reset", summary: "Reset a zone to WHM's template", risk: sdk.RiskCritical,
		params:   []sdk.Param{domainP},
		examples: []string{"/whm dns reset demo1.example"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			recs, err := zoneOf(ctx, c, a.String("domain"))
			if err != nil {
				return nil, err
			}
			return &work{summary: fmt.Sprintf("Reset the zone of %s (%d records now) to the server's template", a.String("domain"), len(recs)),
				notes: []string{"Records added by hand are lost."},
				calls: []wcall{call("resetzone", "Reset the zone", "domain", a.String("domain"))}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("The zone of %s is reset.", a.String("domain"))
			return nil
		},
	})
	register(p, op{name: "dns remove", summary: "Delete a whole DNS zone", risk: sdk.RiskCritical,
		aliases:  []string{"dns kill"},
		params:   []sdk.Param{domainP},
		examples: []string{"/whm dns remove olddomain.example"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			recs, err := zoneOf(ctx, c, a.String("domain"))
			if err != nil {
				return nil, err
			}
			return &work{summary: fmt.Sprintf("Delete the zone of %s and its %d records", a.String("domain"), len(recs)),
				calls: []wcall{call("killdns", "Delete the zone", "domain", a.String("domain"))}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("The zone of %s is deleted.", a.String("domain"))
			return nil
		},
	})
}

func fullName(name, domain string) string {
	switch {
	case name == "@":
		return domain + "."
	case strings.HasSuffix(name, "."):
		return name
	case strings.HasSuffix(name, domain):
		return name + "."
	}
	return name + "." + domain + "."
}
