package provider

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/deskbot/deskbot/plugins/whm/client"
	"github.com/deskbot/deskbot/sdk"
)

func registerSSL(p *sdk.Plugin) {
	register(p, op{name: "ssl problems", summary: "Why AutoSSL could not secure an account's or a domain's names", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{sdk.String("account", "An account name or a domain").AsRequired().AsPositional()},
		examples: []string{"/whm ssl problems blog.example", "/whm ssl problems shopco"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			v := a.String("account")
			if strings.Contains(v, ".") {
				return &work{summary: "Show AutoSSL problems of " + v, calls: []wcall{call("get_autossl_problems_for_domain", "Read AutoSSL problems", "domain", strings.ToLower(v))}}, nil
			}
			if err := checkUser(v); err != nil {
				return nil, sdk.BadArg("account", "%q is neither a domain nor a cPanel account name", v)
			}
			return &work{summary: "Show AutoSSL problems of account " + v, calls: []wcall{call("get_autossl_problems_for_user", "Read AutoSSL problems", "username", v)}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d struct {
				Problems []record `json:"problems_by_domain"`
			}
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			if len(d.Problems) == 0 {
				r.AddText("AutoSSL logged no problem for %s.", a.String("account"))
				return nil
			}
			t := r.AddTable("AutoSSL problems", "domain", "problem", "when")
			for _, x := range d.Problems {
				t.Row(x.s("domain"), x.s("problem"), x.s("time"))
			}
			return nil
		},
	})
	register(p, op{name: "ssl check", summary: "Run AutoSSL now for one account", risk: sdk.RiskLow,
		params:   []sdk.Param{userParam("The account")},
		examples: []string{"/whm ssl check shopco"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			if err := checkUser(a.String("user")); err != nil {
				return nil, err
			}
			return &work{summary: "Start an AutoSSL check of " + a.String("user"), calls: []wcall{call("start_autossl_check_for_one_user", "Start the check", "username", a.String("user"))}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d record
			_ = res[0].Decode(&d)
			r.AddText("AutoSSL is checking %s (process %s). See the outcome with /whm ssl problems %s in a few minutes.", a.String("user"), d.s("pid"), a.String("user"))
			return nil
		},
	})
	register(p, op{name: "ssl vhosts", summary: "Web hosts and the certificates they serve", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{sdk.String("search", "Part of a host or account name").AsPositional()},
		examples: []string{"/whm ssl vhosts", "/whm ssl vhosts shop"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "List web hosts and certificates", calls: []wcall{call("fetch_ssl_vhosts", "Read web hosts")}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d struct {
				Vhosts []struct {
					Servername string `json:"servername"`
					User       string `json:"user"`
					Crt        record `json:"crt"`
				} `json:"vhosts"`
			}
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			q := strings.ToLower(a.String("search"))
			t := r.AddTable("", "host", "account", "issuer", "expires", "kind")
			for _, v := range d.Vhosts {
				if q != "" && !strings.Contains(v.Servername, q) && !strings.Contains(v.User, q) {
					continue
				}
				kind := v.Crt.s("validation_type")
				if v.Crt.on("is_self_signed") {
					kind = "self-signed"
				}
				t.Row(v.Servername, v.User, v.Crt.s("issuer.organizationName"), unixTime(v.Crt.s("not_after")), kind)
			}
			return nil
		},
	})
	register(p, op{name: "ssl info", summary: "The certificate installed for a domain", risk: sdk.RiskReadOnly,
		help:     "Shows the certificate's names, issuer and dates. The private key WHM returns with it is never shown.",
		params:   []sdk.Param{sdk.Domain("domain", "The domain").AsRequired().AsPositional()},
		examples: []string{"/whm ssl info shop.example"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "Show the certificate of " + a.String("domain"), calls: []wcall{call("fetchsslinfo", "Read the certificate", "domain", a.String("domain"))}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d struct {
				Crt  string `json:"crt"`
				User string `json:"user"`
			}
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			kv := []string{"Domain", a.String("domain"), "Account", d.User}
			if cert := parseCert(d.Crt); cert != nil {
				kv = append(kv, "Names", strings.Join(cert.DNSNames, ", "), "Issuer", cert.Issuer.String(),
					"Valid from", cert.NotBefore.UTC().Format("2006-01-02"), "Expires", cert.NotAfter.UTC().Format("2006-01-02"))
			} else {
				kv = append(kv, "Certificate", "present, but not readable as X.509")
			}
			r.AddKeyValues("Certificate", kv...)
			return nil
		},
	})
}

func parseCert(s string) *x509.Certificate {
	b, _ := pem.Decode([]byte(strings.ReplaceAll(s, `\n`, "\n")))
	if b == nil {
		return nil
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil
	}
	return c
}

// restorePoint finds the backup a date names: WHM's points look like
// 2026-11-25 or 2026-11-25T00:00:00.000Z.
func restorePoint(ctx context.Context, c *client.Client, date string) (string, error) {
	res, err := c.Call(ctx, "backup_date_list", nil, nil)
	if err != nil {
		return "", err
	}
	var d struct {
		Set []string `json:"backup_set"`
	}
	if err := res.Decode(&d); err != nil {
		return "", err
	}
	for _, p := range d.Set {
		if p == date || strings.HasPrefix(p, date+"T") {
			return p, nil
		}
	}
	var days []string
	for _, p := range d.Set {
		days = append(days, strings.SplitN(p, "T", 2)[0])
	}
	if len(days) == 0 {
		return "", sdk.BadArg("point", "the server has no backups")
	}
	return "", sdk.BadArg("point", "there is no backup of %s; backups: %s", date, strings.Join(days, ", "))
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

func registerBackups(p *sdk.Plugin) {
	register(p, op{name: "backup dates", summary: "Dates with backups to restore from", risk: sdk.RiskReadOnly,
		examples: []string{"/whm backup dates"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "List backup dates", calls: []wcall{call("backup_date_list", "List backups")}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d struct {
				Set []string `json:"backup_set"`
			}
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			if len(d.Set) == 0 {
				r.AddText("There are no backups.")
				return nil
			}
			r.AddText("Backups: %s", strings.Join(d.Set, ", "))
			return nil
		},
	})
	register(p, op{name: "backup users", summary: "Accounts in one day's backup", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{sdk.String("point", "The backup's date (YYYY-MM-DD)").AsRequired().AsPositional()},
		examples: []string{"/whm backup users 2026-11-25"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			if !dateRE.MatchString(a.String("point")) {
				return nil, sdk.BadArg("point", "%q is not a date like 2026-11-25", a.String("point"))
			}
			pt, err := restorePoint(ctx, c, a.String("point"))
			if err != nil {
				return nil, err
			}
			return &work{summary: "List accounts in the backup of " + a.String("point"), calls: []wcall{call("backup_user_list", "List the backup's accounts", "restore_point", pt)}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d struct {
				User []record `json:"user"`
			}
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			t := r.AddTable("Backup of "+a.String("point"), "account", "status")
			for _, u := range d.User {
				t.Row(u.s("username"), u.s("status"))
			}
			return nil
		},
	})
	register(p, op{name: "restore queue", summary: "Queue an account's restoration from a backup", risk: sdk.RiskCritical,
		help: "Queues only: nothing is restored until `/whm restore run`. The restoration overwrites the account's current files, and the databases and mail you include.",
		params: []sdk.Param{
			userParam("The account to restore"),
			sdk.String("point", "The backup's date (YYYY-MM-DD)").AsRequired(),
			sdk.Bool("mysql", "Restore the databases").WithDefault("yes"),
			sdk.Bool("mail", "Restore the mail configuration").WithDefault("yes"),
			sdk.Bool("subdomains", "Restore subdomains").WithDefault("yes"),
			sdk.Bool("ip", "Give the account back its dedicated IP").WithDefault("no"),
		},
		examples: []string{"/whm restore queue demo1 point=2026-11-25", "/whm restore queue demo1 point=2026-11-25 mysql=no"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			u := a.String("user")
			if err := checkUser(u); err != nil {
				return nil, err
			}
			if !dateRE.MatchString(a.String("point")) {
				return nil, sdk.BadArg("point", "%q is not a date like 2026-11-25", a.String("point"))
			}
			pt, err := restorePoint(ctx, c, a.String("point"))
			if err != nil {
				return nil, err
			}
			res, err := c.Call(ctx, "backup_user_list", client.Args{"restore_point": {pt}}, nil)
			if err != nil {
				return nil, err
			}
			var d struct {
				User []record `json:"user"`
			}
			if err := res.Decode(&d); err != nil {
				return nil, err
			}
			var in []string
			found := false
			for _, x := range d.User {
				in = append(in, x.s("username"))
				found = found || x.s("username") == u
			}
			if !found {
				msg := fmt.Sprintf("the backup of %s holds no account %q", a.String("point"), u)
				if s := sdk.Suggest(u, in); len(s) > 0 {
					msg += "; did you mean " + strings.Join(s, " or ") + "?"
				}
				return nil, sdk.BadArg("user", "%s", msg)
			}
			b := func(k string) string { return map[bool]string{true: "1", false: "0"}[a.Bool(k)] }
			var parts []string
			for _, k := range []string{"mysql", "mail", "subdomains", "ip"} {
				if a.Bool(k) {
					parts = append(parts, k)
				}
			}
			return &work{summary: fmt.Sprintf("Queue the restoration of %s from the backup of %s (files%s)", u, a.String("point"), prefixed(", ", strings.Join(parts, ", "))),
				notes: []string{"It starts with /whm restore run."},
				calls: []wcall{call("restore_queue_add_task", "Queue the restoration", "user", u, "restore_point", pt,
					"mysql", b("mysql"), "mail_config", b("mail"), "subdomains", b("subdomains"), "give_ip", b("ip"))}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("The restoration of %s is queued. Start the queue with /whm restore run.", a.String("user"))
			return nil
		},
	})
	register(p, op{name: "restore status", summary: "Pending, running and finished restorations", risk: sdk.RiskReadOnly,
		examples: []string{"/whm restore status"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "Show the restore queue", calls: []wcall{call("restore_queue_state", "Read the queue")}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d struct {
				Pending, Active, Completed []record
			}
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			if len(d.Pending)+len(d.Active)+len(d.Completed) == 0 {
				r.AddText("The restore queue is empty.")
				return nil
			}
			t := r.AddTable("Restore queue", "account", "backup", "state")
			for _, g := range []struct {
				name string
				jobs []record
			}{{"pending", d.Pending}, {"running", d.Active}, {"finished", d.Completed}} {
				for _, j := range g.jobs {
					t.Row(j.s("user"), j.s("restore_point"), g.name)
				}
			}
			return nil
		},
	})
	register(p, op{name: "restore run", summary: "Start the queued restorations", risk: sdk.RiskCritical,
		examples: []string{"/whm restore run"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			res, err := c.Call(ctx, "restore_queue_list_pending", nil, nil)
			if err != nil {
				return nil, err
			}
			var d struct {
				Jobs []record `json:"restore_job"`
			}
			if err := res.Decode(&d); err != nil {
				return nil, err
			}
			if len(d.Jobs) == 0 {
				return nil, fmt.Errorf("nothing is queued; queue a restoration with /whm restore queue USER point=DATE")
			}
			var jobs []string
			for _, j := range d.Jobs {
				jobs = append(jobs, j.s("user")+" from "+j.s("restore_point"))
			}
			return &work{summary: fmt.Sprintf("Run %d queued restorations: %s", len(jobs), strings.Join(jobs, "; ")),
				notes: []string{"Each overwrites the account's current files."},
				calls: []wcall{call("restore_queue_activate", "Start the queue")}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("The restore queue is running. Follow it with /whm restore status.")
			return nil
		},
	})
	register(p, op{name: "restore cancel", summary: "Take a pending restoration off the queue", risk: sdk.RiskLow,
		params:   []sdk.Param{userParam("The account")},
		examples: []string{"/whm restore cancel demo1"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			if err := checkUser(a.String("user")); err != nil {
				return nil, err
			}
			return &work{summary: "Cancel the pending restoration of " + a.String("user"), calls: []wcall{call("restore_queue_clear_pending_task", "Remove it from the queue", "user", a.String("user"))}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("The restoration of %s is off the queue.", a.String("user"))
			return nil
		},
	})
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

func registerMail(p *sdk.Plugin) {
	register(p, op{name: "mail queue", summary: "Messages waiting in the server's mail queue", risk: sdk.RiskReadOnly,
		examples: []string{"/whm mail queue"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "Read the mail queue", calls: []wcall{call("fetch_mail_queue", "Read the queue")}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			v := decodeOf(res[0])
			if empty(v) {
				r.AddText("The mail queue is empty.")
				return nil
			}
			renderValue(r, "Mail queue", v)
			return nil
		},
	})
	flag := func(name, fn, summary, done string, risk sdk.Risk, note string) {
		register(p, op{name: name, summary: summary, risk: risk,
			params:   []sdk.Param{userParam("The account")},
			examples: []string{"/whm " + name + " demo1"},
			plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
				x, err := lookup(ctx, c, a.String("user"))
				if err != nil {
					return nil, err
				}
				w := &work{summary: summary + ": " + describe(x) + " (outgoing mail now " + mailState(x) + ")", calls: []wcall{call(fn, summary, "user", x.s("user"))}}
				if note != "" {
					w.notes = append(w.notes, note)
				}
				return w, nil
			},
			show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
				r.AddText(done, a.String("user"))
				return nil
			},
		})
	}
	flag("mail hold", "hold_outgoing_email", "Hold an account's outgoing mail in the queue", "Outgoing mail of %s is held.", sdk.RiskHigh, "Messages stay queued until released.")
	flag("mail release", "release_outgoing_email", "Release an account's held outgoing mail", "Outgoing mail of %s is released.", sdk.RiskHigh, "Every held message is delivered; this cannot be taken back.")
	flag("mail suspend", "suspend_outgoing_email", "Stop an account from sending mail", "%s can no longer send mail.", sdk.RiskHigh, "New outgoing messages are refused.")
	flag("mail unsuspend", "unsuspend_outgoing_email", "Let an account send mail again", "%s can send mail again.", sdk.RiskHigh, "")
	register(p, op{name: "mail accounts", summary: "An account's mailboxes", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{userParam("The account")},
		examples: []string{"/whm mail accounts demo1"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			if err := checkUser(a.String("user")); err != nil {
				return nil, err
			}
			return &work{summary: "List the mailboxes of " + a.String("user"), calls: []wcall{call("list_pops_for", "List mailboxes", "user", a.String("user"))}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			v := decodeOf(res[0])
			if empty(v) {
				r.AddText("%s has no mailboxes.", a.String("user"))
				return nil
			}
			renderValue(r, "Mailboxes of "+a.String("user"), v)
			return nil
		},
	})
	register(p, op{name: "mail stats", summary: "Outgoing mail delivery counts", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{sdk.String("user", "One account").AsPositional(), sdk.Duration("since", "How far back").WithDefault("24h")},
		examples: []string{"/whm mail stats", "/whm mail stats demo1 since=7d"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			start := strconv.FormatInt(time.Now().Add(-a.Duration("since")).Unix(), 10)
			kv := []string{"starttime", start}
			if u := a.String("user"); u != "" {
				if err := checkUser(u); err != nil {
					return nil, err
				}
				kv = append(kv, "user", u)
			}
			return &work{summary: "Count outgoing mail", calls: []wcall{call("emailtrack_stats", "Count deliveries", kv...)}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d struct {
				Records []record `json:"records"`
			}
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			if len(d.Records) == 0 {
				r.AddText("No mail was sent.")
				return nil
			}
			x := d.Records[0]
			r.AddKeyValues("Outgoing mail", "Sent", x.s("SENDCOUNT"), "Delivered", x.s("SUCCESSCOUNT"), "Deferred", x.s("DEFERCOUNT"),
				"Failed", x.s("FAILCOUNT"), "In progress", x.s("INPROGRESSCOUNT"), "Size", bytesText(x.s("TOTALSIZE")))
			return nil
		},
	})
}

func decodeOf(res *client.Result) any {
	var v any
	_ = res.Decode(&v)
	return v
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		for _, e := range x {
			if !empty(e) {
				return false
			}
		}
		return true
	case []any:
		return len(x) == 0
	}
	return false
}

func registerHulk(p *sdk.Plugin) {
	ipsP := sdk.IP("ip", "IP address (repeat for several)").AsRequired().AsPositional().AsRepeated()
	register(p, op{name: "hulk status", summary: "Whether cPHulk brute-force protection is on", risk: sdk.RiskReadOnly,
		examples: []string{"/whm hulk status"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "Read cPHulk's status", calls: []wcall{call("cphulk_status", "Read the status")}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d record
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			state := "off"
			if d.on("is_enabled") {
				state = "on"
			}
			r.AddText("cPHulk is %s.", state)
			return nil
		},
	})
	register(p, op{name: "hulk blocked", summary: "Addresses cPHulk blocks for failed logins", risk: sdk.RiskReadOnly,
		examples: []string{"/whm hulk blocked"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "List blocked addresses", calls: []wcall{call("get_cphulk_brutes", "List blocks")}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d struct {
				Brutes []record `json:"brutes"`
			}
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			if len(d.Brutes) == 0 {
				r.AddText("cPHulk blocks no address.")
				return nil
			}
			t := r.AddTable("Blocked", "ip", "since", "until", "minutes left", "why")
			for _, b := range d.Brutes {
				t.Row(b.s("ip"), b.s("logintime"), b.s("exptime"), b.s("timeleft"), b.s("notes"))
			}
			return nil
		},
	})
	register(p, op{name: "hulk unblock", summary: "Clear failed logins and blocks of addresses", risk: sdk.RiskLow,
		help:     "Removes cPHulk's login failures and firewall bans for the addresses. It does not whitelist them.",
		params:   []sdk.Param{ipsP},
		examples: []string{"/whm hulk unblock 192.0.2.45"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			ips := a.Strings("ip")
			w := &work{summary: "Unblock " + strings.Join(ips, ", "), calls: []wcall{{fn: "flush_cphulk_login_history_for_ips", args: client.Args{"ip": ips}, what: "Clear failures and bans"}}}
			return w, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d record
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			if d.s("records_removed") == "0" {
				r.AddText("cPHulk had no failures recorded for %s; nothing changed.", strings.Join(a.Strings("ip"), ", "))
				return nil
			}
			r.AddText("Unblocked %s: %s login records and %s firewall bans removed.", strings.Join(a.Strings("ip"), ", "), d.s("records_removed"), orWord(d.s("iptable_bans_removed"), "0"))
			return nil
		},
	})
	register(p, op{name: "hulk list", summary: "cPHulk's whitelist or blacklist", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{sdk.EnumOf("list", "Which list", sdk.EnumValue{Value: "white", Aliases: []string{"whitelist", "allow"}}, sdk.EnumValue{Value: "black", Aliases: []string{"blacklist", "block"}}).AsRequired().AsPositional()},
		examples: []string{"/whm hulk list white"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "Read the " + a.String("list") + " list", calls: []wcall{call("read_cphulk_records", "Read the list", "list_name", a.String("list"))}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d struct {
				IPs map[string]string `json:"ips_in_list"`
			}
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			if len(d.IPs) == 0 {
				r.AddText("The %s list is empty.", a.String("list"))
				return nil
			}
			ips := make([]string, 0, len(d.IPs))
			for ip := range d.IPs {
				ips = append(ips, ip)
			}
			sort.Strings(ips)
			t := r.AddTable(strings.ToUpper(a.String("list")[:1])+a.String("list")[1:]+" list", "ip", "comment")
			for _, ip := range ips {
				t.Row(ip, d.IPs[ip])
			}
			return nil
		},
	})
	addTo := func(name, list, summary string) {
		register(p, op{name: name, summary: summary, risk: sdk.RiskHigh,
			params:   []sdk.Param{ipsP, sdk.String("comment", "Why, for whoever reads the list next").AsRequired()},
			examples: []string{"/whm " + name + " 203.0.113.7 comment=\"ticket 4411\""},
			plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
				ips := a.Strings("ip")
				w := &work{summary: fmt.Sprintf("Add %s to cPHulk's %s list: %s", strings.Join(ips, ", "), list, a.String("comment")),
					calls: []wcall{{fn: "create_cphulk_record", args: client.Args{"list_name": {list}, "ip": ips, "comment": {a.String("comment")}}, what: summary}}}
				if list == "black" {
					w.notes = append(w.notes, "Every login from these addresses is refused.")
				}
				return w, nil
			},
			show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
				return showHulkChange(res[0], r, "ips_added", "added to the "+list+" list")
			},
		})
	}
	addTo("hulk allow", "white", "Whitelist addresses in cPHulk")
	addTo("hulk block", "black", "Blacklist addresses in cPHulk")
	register(p, op{name: "hulk remove", summary: "Take addresses off cPHulk's whitelist or blacklist", risk: sdk.RiskHigh,
		params:   []sdk.Param{ipsP, sdk.EnumOf("list", "Which list", sdk.EnumValue{Value: "white", Aliases: []string{"whitelist", "allow"}}, sdk.EnumValue{Value: "black", Aliases: []string{"blacklist", "block"}}).AsRequired()},
		examples: []string{"/whm hulk remove 198.51.100.66 list=black"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			ips := a.Strings("ip")
			return &work{summary: fmt.Sprintf("Remove %s from cPHulk's %s list", strings.Join(ips, ", "), a.String("list")),
				calls: []wcall{{fn: "delete_cphulk_record", args: client.Args{"list_name": {a.String("list")}, "ip": ips}, what: "Remove from the list"}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			return showHulkChange(res[0], r, "ips_removed", "removed from the "+a.String("list")+" list")
		},
	})
}

func showHulkChange(res *client.Result, r *sdk.Result, key, what string) error {
	var d map[string]any
	if err := res.Decode(&d); err != nil {
		return err
	}
	var done []string
	if l, ok := d[key].([]any); ok {
		for _, e := range l {
			s, _ := scalarText(e)
			done = append(done, s)
		}
	}
	if len(done) > 0 {
		r.AddText("%s %s.", strings.Join(done, ", "), what)
	}
	if failed, ok := d["ips_failed"].(map[string]any); ok && len(failed) > 0 {
		t := r.AddTable("Not changed", "ip", "why")
		for _, ip := range sortedKeys(failed) {
			s, _ := scalarText(failed[ip])
			t.Row(ip, s)
		}
		if len(done) == 0 {
			r.Diagnostics = append(r.Diagnostics, sdk.Diagnostic{Severity: sdk.SeverityError, Summary: "no address was changed"})
		}
	}
	return nil
}

var serviceRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]{1,40}$`)

func registerServer(p *sdk.Plugin) {
	register(p, op{name: "service status", summary: "Whether the server's services run", risk: sdk.RiskReadOnly,
		params:   []sdk.Param{sdk.String("service", "One service (httpd, exim, mysql...)").AsPositional()},
		examples: []string{"/whm service status", "/whm service status exim"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "Read service status", calls: []wcall{call("servicestatus", "Read services", "service", a.String("service"))}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d struct {
				Service []record `json:"service"`
			}
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			t := r.AddTable("", "service", "name", "running", "enabled", "monitored")
			down := 0
			for _, s := range d.Service {
				if s.on("enabled") && !s.on("running") {
					down++
				}
				t.Row(s.s("name"), s.s("display_name"), yesNo(s.on("running")), yesNo(s.on("enabled")), yesNo(s.on("monitored")))
			}
			if down > 0 {
				r.Warn("%d enabled services are not running.", down)
			}
			return nil
		},
	})
	register(p, op{name: "service restart", summary: "Restart a service", risk: sdk.RiskHigh,
		params:   []sdk.Param{sdk.String("service", "The service (httpd, exim, dovecot, mysql, named...)").AsRequired().AsPositional()},
		examples: []string{"/whm service restart exim"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s := a.String("service")
			if !serviceRE.MatchString(s) {
				return nil, sdk.BadArg("service", "%q is not a service name", s)
			}
			res, err := c.Call(ctx, "servicestatus", nil, nil)
			if err != nil {
				return nil, err
			}
			var d struct {
				Service []record `json:"service"`
			}
			if err := res.Decode(&d); err != nil {
				return nil, err
			}
			var names []string
			for _, x := range d.Service {
				if x.s("name") == s {
					return &work{summary: fmt.Sprintf("Restart %s (%s, running: %s)", s, x.s("display_name"), yesNo(x.on("running"))),
						notes: []string{"Connections to it drop while it restarts."},
						calls: []wcall{call("restartservice", "Restart the service", "service", s)}}, nil
				}
				names = append(names, x.s("name"))
			}
			msg := fmt.Sprintf("the server has no service %q", s)
			if sug := sdk.Suggest(s, names); len(sug) > 0 {
				msg += "; did you mean " + strings.Join(sug, " or ") + "?"
			}
			return nil, sdk.BadArg("service", "%s", msg)
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("%s restarted.", a.String("service"))
			var d record
			if res[0].Decode(&d) == nil && d.s("output") != "" {
				r.AddCode("Output", strings.ReplaceAll(d.s("output"), `\n`, "\n"))
			}
			return nil
		},
	})
	infoCalls := []client.BatchCall{{Function: "gethostname"}, {Function: "version"}, {Function: "systemloadavg"}, {Function: "system_needs_reboot"}}
	register(p, op{name: "server info", summary: "Host name, cPanel version, load and whether a reboot is due", risk: sdk.RiskReadOnly,
		aliases:  []string{"server status"},
		examples: []string{"/whm server info"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "Read the server's name, version, load and reboot state in one batch",
				calls: []wcall{{fn: "batch", args: client.BatchArgs(infoCalls, false), what: "gethostname, version, systemloadavg, system_needs_reboot"}}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			names := make([]string, len(infoCalls))
			for i, bc := range infoCalls {
				names[i] = bc.Function
			}
			parts, errs, err := c.Unbatch(res[0], names)
			if err != nil {
				return err
			}
			var kv []string
			for i, part := range parts {
				if errs[i] != nil {
					r.Warn("%v", errs[i])
					continue
				}
				var d record
				_ = part.Decode(&d)
				switch names[i] {
				case "gethostname":
					kv = append(kv, "Host", d.s("hostname"))
				case "version":
					kv = append(kv, "cPanel & WHM", d.s("version"))
				case "systemloadavg":
					kv = append(kv, "Load", d.s("one")+" "+d.s("five")+" "+d.s("fifteen"))
				case "system_needs_reboot":
					why := []string{}
					if det, ok := d["details"].(map[string]any); ok {
						why = sortedKeys(det)
					}
					if d.on("needs_reboot") {
						kv = append(kv, "Reboot needed", "yes ("+strings.Join(why, ", ")+")")
					} else {
						kv = append(kv, "Reboot needed", "no")
					}
				}
			}
			r.AddKeyValues("Server", kv...)
			return nil
		},
	})
	register(p, op{name: "server load", summary: "The server's load average", risk: sdk.RiskReadOnly,
		examples: []string{"/whm server load"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "Read the load average", calls: []wcall{call("systemloadavg", "Read the load")}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d record
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			r.AddKeyValues("Load average", "1 minute", d.s("one"), "5 minutes", d.s("five"), "15 minutes", d.s("fifteen"))
			return nil
		},
	})
	register(p, op{name: "server disk", summary: "The server's disk partitions and their use", risk: sdk.RiskReadOnly,
		examples: []string{"/whm server disk"},
		plan: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return &work{summary: "Read disk use", calls: []wcall{call("getdiskusage", "Read partitions")}}, nil
		},
		show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d struct {
				Partition []record `json:"partition"`
			}
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			t := r.AddTable("", "mount", "device", "used", "size", "use %", "inodes %")
			full := 0
			for _, x := range d.Partition {
				if n, _ := strconv.Atoi(x.s("percentage")); n >= 90 {
					full++
				}
				t.Row(x.s("mount"), x.s("device"), blocksText(x.s("used")), blocksText(x.s("total")), x.s("percentage")+"%", x.s("inodes_ipercentage")+"%")
			}
			if full > 0 {
				r.Warn("%d partitions are at least 90%% full.", full)
			}
			return nil
		},
	})
}
