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

// zoneSerial is the serial of a zone's SOA record (its third field), as
// mass_edit_dns_zone wants it back.
func zoneSerial(domain string, recs []zoneRecord) (string, error) {
	for _, z := range recs {
		if z.Type == "SOA" {
			if len(z.Data) < 3 {
				break
			}
			if _, err := strconv.ParseUint(z.Data[2], 10, 32); err != nil {
				return "", fmt.Errorf("the SOA record of %s has serial %q, which is not a number", domain, z.Data[2])
			}
			return z.Data[2], nil
		}
	}
	return "", fmt.Errorf("the zone of %s has no SOA record with a serial", domain)
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
	registerOps(p, dnsZones(), dnsZone(), dnsRecordAdd(), dnsRecordRemove(), dnsReset(), dnsRemove())
}

func domainParam() sdk.Param {
	return sdk.Domain("domain", "The zone's domain").AsRequired().AsPositional().AsResource()
}

// zoneFacts are a zone's records as a plan saw them: work planned from
// them (a reset, a deletion) is refused if the zone has changed since.
func zoneFacts(domain string, recs []zoneRecord) []string {
	facts := []string{"zone " + domain}
	for _, z := range recs {
		facts = append(facts, z.String())
	}
	return facts
}

func dnsZones() op {
	return op{Name: "dns zones", Summary: "DNS zones on the server", Risk: sdk.RiskReadOnly,
		Examples: []string{"/whm dns zones"},
		Work:     reads("List DNS zones", "listzones", "List zones"),
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
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
	}
}

func dnsZone() op {
	return op{Name: "dns zone", Summary: "A domain's DNS records", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{domainParam()},
		Examples: []string{"/whm dns zone demo1.example"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return single("Show the DNS zone of "+a.String("domain"), call(c, "parse_dns_zone", "Read the zone", "zone", a.String("domain"))), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
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
	}
}

func dnsRecordAdd() op {
	return op{Name: "dns record add", Summary: "Add a DNS record", Risk: sdk.RiskHigh,
		Help: "VALUE is the address (A, AAAA), the target name (CNAME), \"PRIORITY HOST\" (MX) or the text (TXT). NAME is relative to the domain (www) or ends with a dot; @ is the domain itself.",
		Params: []sdk.Param{
			domainParam(),
			sdk.String("name", "Record name: www, @, or a full name ending with a dot").AsRequired().AsPositional(),
			sdk.Enum("type", "Record type", recordTypes...).AsRequired().AsPositional(),
			sdk.String("value", "Record data").AsRequired().AsPositional(),
			sdk.Int("ttl", "Time to live in seconds").Between(60, 604800).WithDefault("14400"),
		},
		Examples: []string{"/whm dns record add demo1.example shop A 203.0.113.50", "/whm dns record add demo1.example @ MX \"10 mx.mailhost.example.\""},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			d, name, typ, val := a.String("domain"), a.String("name"), strings.ToUpper(a.String("type")), strings.TrimSpace(a.String("value"))
			kv, err := recordFields(typ, val)
			if err != nil {
				return nil, err
			}
			kv = append([]string{"domain", d, "name", name, "type", typ, "class", "IN", "ttl", strconv.FormatInt(a.Int("ttl"), 10)}, kv...)
			recs, err := zoneOf(ctx, c, d)
			if err != nil {
				return nil, err
			}
			w := single(fmt.Sprintf("Add to %s: %s %d %s %s", d, name, a.Int("ttl"), typ, val), call(c, "addzonerecord", "Add the record", kv...))
			full := fullName(name, d)
			// The records already at the name are what the plan was
			// checked against: a CNAME there since would make the new
			// record wrong.
			w.Facts = []string{"records at " + full}
			for _, z := range recs {
				if !strings.EqualFold(z.Name, full) {
					continue
				}
				if z.Type == "CNAME" || typ == "CNAME" {
					return nil, sdk.BadArg("name", "%s already has a %s record (%s); a CNAME cannot share its name", full, z.Type, z)
				}
				if z.Type == typ {
					w.Notes = append(w.Notes, "The zone already has "+z.String()+"; the new record is added beside it.")
				}
				w.Facts = append(w.Facts, z.String())
			}
			return w, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("Record added to %s.", a.String("domain"))
			return nil
		},
	}
}

// recordFields checks a record's value for its type and returns it as
// addzonerecord's fields.
func recordFields(typ, val string) ([]string, error) {
	switch typ {
	case "A", "AAAA":
		ip := net.ParseIP(val)
		if ip == nil || (typ == "A") != (ip.To4() != nil) {
			return nil, sdk.BadArg("value", "%q is not an %s address", val, map[string]string{"A": "IPv4", "AAAA": "IPv6"}[typ])
		}
		return []string{"address", val}, nil
	case "CNAME":
		return []string{"cname", val}, nil
	case "MX":
		f := strings.Fields(val)
		if len(f) != 2 {
			return nil, sdk.BadArg("value", "an MX value is \"PRIORITY HOST\", like \"10 mx.example.com.\"")
		}
		if n, err := strconv.Atoi(f[0]); err != nil || n < 0 || n > 65535 {
			return nil, sdk.BadArg("value", "MX priority %q is not a number from 0 to 65535", f[0])
		}
		return []string{"preference", f[0], "exchange", f[1]}, nil
	case "TXT":
		return []string{"txtdata", val}, nil
	}
	return nil, nil
}

func dnsRecordRemove() op {
	return op{Name: "dns record remove", Summary: "Remove one DNS record, by its line in the zone", Risk: sdk.RiskCritical,
		Aliases:  []string{"dns record delete"},
		Help:     "Find the line with `/whm dns zone DOMAIN`. The plan shows the record that will go.",
		Params:   []sdk.Param{domainParam(), sdk.Int("line", "The record's line").AsRequired().AsPositional().AtLeast(1)},
		Examples: []string{"/whm dns record remove demo1.example 8"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
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
			serial, err := zoneSerial(d, recs)
			if err != nil {
				return nil, err
			}
			// mass_edit_dns_zone rather than removezonerecord: it names
			// the line as the plan saw the zone, and WHM itself refuses
			// it if the zone's serial is no longer the one read here, so
			// a zone that shifted since cannot lose another record even
			// if the bot's own check were skipped.
			w := single(fmt.Sprintf("Remove from %s: %s", d, rec),
				call(c, "mass_edit_dns_zone", "Remove the record", "zone", d, "serial", serial, "remove", strconv.Itoa(line-1)))
			// The call names a line only: the record on it, and the zone
			// it was read from, are what was approved.
			w.Facts = []string{"zone " + d + " serial " + serial, "zone " + d + " " + rec.String()}
			if rec.Type == "NS" {
				w.Notes = append(w.Notes, "This is a name server record: removing it can make the domain unresolvable.")
			}
			return w, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("Line %d removed from %s.", a.Int("line"), a.String("domain"))
			return nil
		},
	}
}

func dnsReset() op {
	return op{Name: "dns reset", Summary: "Reset a zone to WHM's template", Risk: sdk.RiskCritical,
		Params:   []sdk.Param{domainParam()},
		Examples: []string{"/whm dns reset demo1.example"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			d := a.String("domain")
			recs, err := zoneOf(ctx, c, d)
			if err != nil {
				return nil, err
			}
			w := single(fmt.Sprintf("Reset the zone of %s (%d records now) to the server's template", d, len(recs)), call(c, "resetzone", "Reset the zone", "domain", d))
			w.Notes = []string{"Records added by hand are lost."}
			w.Facts = zoneFacts(d, recs)
			return w, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("The zone of %s is reset.", a.String("domain"))
			return nil
		},
	}
}

func dnsRemove() op {
	return op{Name: "dns remove", Summary: "Delete a whole DNS zone", Risk: sdk.RiskCritical,
		Aliases:  []string{"dns kill"},
		Params:   []sdk.Param{domainParam()},
		Examples: []string{"/whm dns remove olddomain.example"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			d := a.String("domain")
			recs, err := zoneOf(ctx, c, d)
			if err != nil {
				return nil, err
			}
			w := single(fmt.Sprintf("Delete the zone of %s and its %d records", d, len(recs)), call(c, "killdns", "Delete the zone", "domain", d))
			w.Facts = zoneFacts(d, recs)
			return w, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("The zone of %s is deleted.", a.String("domain"))
			return nil
		},
	}
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
