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
	registerOps(p, sslProblems(), sslCheck(), sslVhosts(), sslInfo())
}

func sslProblems() op {
	return op{Name: "ssl problems", Summary: "Why AutoSSL could not secure an account's or a domain's names", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{sdk.String("account", "An account name or a domain").AsRequired().AsPositional()},
		Examples: []string{"/whm ssl problems blog.example", "/whm ssl problems shopco"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			v := a.String("account")
			if strings.Contains(v, ".") {
				return single("Show AutoSSL problems of "+v, call(c, "get_autossl_problems_for_domain", "Read AutoSSL problems", "domain", strings.ToLower(v))), nil
			}
			if err := checkUser(v); err != nil {
				return nil, sdk.BadArg("account", "%q is neither a domain nor a cPanel account name", v)
			}
			return single("Show AutoSSL problems of account "+v, call(c, "get_autossl_problems_for_user", "Read AutoSSL problems", "username", v)), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
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
	}
}

func sslCheck() op {
	return op{Name: "ssl check", Summary: "Run AutoSSL now for one account", Risk: sdk.RiskLow,
		Params:   []sdk.Param{userParam("The account")},
		Examples: []string{"/whm ssl check shopco"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			if err := checkUser(a.String("user")); err != nil {
				return nil, err
			}
			return single("Start an AutoSSL check of "+a.String("user"), call(c, "start_autossl_check_for_one_user", "Start the check", "username", a.String("user"))), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d record
			_ = res[0].Decode(&d)
			r.AddText("AutoSSL is checking %s (process %s). See the outcome with /whm ssl problems %s in a few minutes.", a.String("user"), d.s("pid"), a.String("user"))
			return nil
		},
	}
}

func sslVhosts() op {
	return op{Name: "ssl vhosts", Summary: "Web hosts and the certificates they serve", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{sdk.String("search", "Part of a host or account name").AsPositional()},
		Examples: []string{"/whm ssl vhosts", "/whm ssl vhosts shop"},
		Work:     reads("List web hosts and certificates", "fetch_ssl_vhosts", "Read web hosts"),
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
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
	}
}

func sslInfo() op {
	return op{Name: "ssl info", Summary: "The certificate installed for a domain", Risk: sdk.RiskReadOnly,
		Help:     "Shows the certificate's names, issuer and dates. The private key WHM returns with it is never shown.",
		Params:   []sdk.Param{sdk.Domain("domain", "The domain").AsRequired().AsPositional()},
		Examples: []string{"/whm ssl info shop.example"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return single("Show the certificate of "+a.String("domain"), call(c, "fetchsslinfo", "Read the certificate", "domain", a.String("domain"))), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
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
	}
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

// backupSet is how backup_date_list answers.
type backupSet struct {
	Set []string `json:"backup_set"`
}

// backupUserList is how backup_user_list answers.
type backupUserList struct {
	User []record `json:"user"`
}

// restorePoint finds the backup a date names: WHM's points look like
// 2026-11-25 or 2026-11-25T00:00:00.000Z.
func restorePoint(ctx context.Context, c *client.Client, date string) (string, error) {
	d, err := read[backupSet](ctx, c, "backup_date_list", nil)
	if err != nil {
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
	registerOps(p, backupDates(), backupUsers(), restoreQueue(), restoreStatus(), restoreRun(), restoreCancel())
}

// pointArg reads a backup's date and finds the restore point it names.
func pointArg(ctx context.Context, c *client.Client, a sdk.Args) (string, error) {
	if !dateRE.MatchString(a.String("point")) {
		return "", sdk.BadArg("point", "%q is not a date like 2026-11-25", a.String("point"))
	}
	return restorePoint(ctx, c, a.String("point"))
}

func backupDates() op {
	return op{Name: "backup dates", Summary: "Dates with backups to restore from", Risk: sdk.RiskReadOnly,
		Examples: []string{"/whm backup dates"},
		Work:     reads("List backup dates", "backup_date_list", "List backups"),
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d backupSet
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
	}
}

func backupUsers() op {
	return op{Name: "backup users", Summary: "Accounts in one day's backup", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{sdk.String("point", "The backup's date (YYYY-MM-DD)").AsRequired().AsPositional()},
		Examples: []string{"/whm backup users 2026-11-25"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			pt, err := pointArg(ctx, c, a)
			if err != nil {
				return nil, err
			}
			return single("List accounts in the backup of "+a.String("point"), call(c, "backup_user_list", "List the backup's accounts", "restore_point", pt)), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d backupUserList
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			t := r.AddTable("Backup of "+a.String("point"), "account", "status")
			for _, u := range d.User {
				t.Row(u.s("username"), u.s("status"))
			}
			return nil
		},
	}
}

// checkInBackup fails with the closest names when the backup at restore
// point pt (of date) holds no account user.
func checkInBackup(ctx context.Context, c *client.Client, date, pt, user string) error {
	d, err := read[backupUserList](ctx, c, "backup_user_list", client.Args{"restore_point": {pt}})
	if err != nil {
		return err
	}
	var in []string
	for _, x := range d.User {
		if x.s("username") == user {
			return nil
		}
		in = append(in, x.s("username"))
	}
	msg := fmt.Sprintf("the backup of %s holds no account %q", date, user)
	if s := sdk.Suggest(user, in); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return sdk.BadArg("user", "%s", msg)
}

func restoreQueue() op {
	return op{Name: "restore queue", Summary: "Queue an account's restoration from a backup", Risk: sdk.RiskCritical,
		Help: "Queues only: nothing is restored until `/whm restore run`. The restoration overwrites the account's current files, and the databases and mail you include.",
		Params: []sdk.Param{
			userParam("The account to restore"),
			sdk.String("point", "The backup's date (YYYY-MM-DD)").AsRequired(),
			sdk.Bool("mysql", "Restore the databases").WithDefault("yes"),
			sdk.Bool("mail", "Restore the mail configuration").WithDefault("yes"),
			sdk.Bool("subdomains", "Restore subdomains").WithDefault("yes"),
			sdk.Bool("ip", "Give the account back its dedicated IP").WithDefault("no"),
		},
		Examples: []string{"/whm restore queue demo1 point=2026-11-25", "/whm restore queue demo1 point=2026-11-25 mysql=no"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			u := a.String("user")
			if err := checkUser(u); err != nil {
				return nil, err
			}
			pt, err := pointArg(ctx, c, a)
			if err != nil {
				return nil, err
			}
			if err := checkInBackup(ctx, c, a.String("point"), pt, u); err != nil {
				return nil, err
			}
			b := func(k string) string { return map[bool]string{true: "1", false: "0"}[a.Bool(k)] }
			var parts []string
			for _, k := range []string{"mysql", "mail", "subdomains", "ip"} {
				if a.Bool(k) {
					parts = append(parts, k)
				}
			}
			w := single(fmt.Sprintf("Queue the restoration of %s from the backup of %s (files%s)", u, a.String("point"), prefixed(", ", strings.Join(parts, ", "))),
				call(c, "restore_queue_add_task", "Queue the restoration", "user", u, "restore_point", pt,
					"mysql", b("mysql"), "mail_config", b("mail"), "subdomains", b("subdomains"), "give_ip", b("ip")))
			w.Notes = []string{"It starts with /whm restore run."}
			return w, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("The restoration of %s is queued. Start the queue with /whm restore run.", a.String("user"))
			return nil
		},
	}
}

func restoreStatus() op {
	return op{Name: "restore status", Summary: "Pending, running and finished restorations", Risk: sdk.RiskReadOnly,
		Examples: []string{"/whm restore status"},
		Work:     reads("Show the restore queue", "restore_queue_state", "Read the queue"),
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
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
	}
}

func restoreRun() op {
	return op{Name: "restore run", Summary: "Start the queued restorations", Risk: sdk.RiskCritical,
		Examples: []string{"/whm restore run"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			d, err := read[struct {
				Jobs []record `json:"restore_job"`
			}](ctx, c, "restore_queue_list_pending", nil)
			if err != nil {
				return nil, err
			}
			if len(d.Jobs) == 0 {
				return nil, fmt.Errorf("nothing is queued; queue a restoration with /whm restore queue USER point=DATE")
			}
			var jobs []string
			for _, j := range d.Jobs {
				jobs = append(jobs, j.s("user")+" from "+j.s("restore_point"))
			}
			w := single(fmt.Sprintf("Run %d queued restorations: %s", len(jobs), strings.Join(jobs, "; ")), call(c, "restore_queue_activate", "Start the queue"))
			w.Notes = []string{"Each overwrites the account's current files."}
			// The call starts whatever is queued by then: the queue the
			// approver saw is the fact.
			w.Facts = append([]string{"restore queue"}, jobs...)
			return w, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("The restore queue is running. Follow it with /whm restore status.")
			return nil
		},
	}
}

func restoreCancel() op {
	return op{Name: "restore cancel", Summary: "Take a pending restoration off the queue", Risk: sdk.RiskLow,
		Params:   []sdk.Param{userParam("The account")},
		Examples: []string{"/whm restore cancel demo1"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			if err := checkUser(a.String("user")); err != nil {
				return nil, err
			}
			return single("Cancel the pending restoration of "+a.String("user"), call(c, "restore_queue_clear_pending_task", "Remove it from the queue", "user", a.String("user"))), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("The restoration of %s is off the queue.", a.String("user"))
			return nil
		},
	}
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

func registerMail(p *sdk.Plugin) {
	registerOps(p, mailQueue(),
		mailFlag("mail hold", "hold_outgoing_email", "Hold an account's outgoing mail in the queue", "Outgoing mail of %s is held.", "Messages stay queued until released."),
		mailFlag("mail release", "release_outgoing_email", "Release an account's held outgoing mail", "Outgoing mail of %s is released.", "Every held message is delivered; this cannot be taken back."),
		mailFlag("mail suspend", "suspend_outgoing_email", "Stop an account from sending mail", "%s can no longer send mail.", "New outgoing messages are refused."),
		mailFlag("mail unsuspend", "unsuspend_outgoing_email", "Let an account send mail again", "%s can send mail again.", ""),
		mailAccounts(), mailStats())
}

func mailQueue() op {
	return op{Name: "mail queue", Summary: "Messages waiting in the server's mail queue", Risk: sdk.RiskReadOnly,
		Examples: []string{"/whm mail queue"},
		Work:     reads("Read the mail queue", "fetch_mail_queue", "Read the queue"),
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			v := decodeOf(res[0])
			if empty(v) {
				r.AddText("The mail queue is empty.")
				return nil
			}
			renderValue(r, "Mail queue", v)
			return nil
		},
	}
}

// mailFlag is a command that turns one of an account's outgoing mail
// switches on or off with WHM function fn; done says so afterwards.
func mailFlag(name, fn, summary, done, note string) op {
	return op{Name: name, Summary: summary, Risk: sdk.RiskHigh,
		Params:   []sdk.Param{userParam("The account")},
		Examples: []string{"/whm " + name + " demo1"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			x, err := lookup(ctx, c, a.String("user"))
			if err != nil {
				return nil, err
			}
			w := single(summary+": "+describe(x)+" (outgoing mail now "+mailState(x)+")", call(c, fn, summary, "user", x.s("user")))
			w.Facts = []string{accountFact(x), "outgoing mail " + mailState(x)}
			if note != "" {
				w.Notes = append(w.Notes, note)
			}
			return w, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText(done, a.String("user"))
			return nil
		},
	}
}

func mailAccounts() op {
	return op{Name: "mail accounts", Summary: "An account's mailboxes", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{userParam("The account")},
		Examples: []string{"/whm mail accounts demo1"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			if err := checkUser(a.String("user")); err != nil {
				return nil, err
			}
			return single("List the mailboxes of "+a.String("user"), call(c, "list_pops_for", "List mailboxes", "user", a.String("user"))), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			v := decodeOf(res[0])
			if empty(v) {
				r.AddText("%s has no mailboxes.", a.String("user"))
				return nil
			}
			renderValue(r, "Mailboxes of "+a.String("user"), v)
			return nil
		},
	}
}

func mailStats() op {
	return op{Name: "mail stats", Summary: "Outgoing mail delivery counts", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{sdk.String("user", "One account").AsPositional(), sdk.Duration("since", "How far back").WithDefault("24h")},
		Examples: []string{"/whm mail stats", "/whm mail stats demo1 since=7d"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			start := strconv.FormatInt(time.Now().Add(-a.Duration("since")).Unix(), 10)
			kv := []string{"starttime", start}
			if u := a.String("user"); u != "" {
				if err := checkUser(u); err != nil {
					return nil, err
				}
				kv = append(kv, "user", u)
			}
			return single("Count outgoing mail", call(c, "emailtrack_stats", "Count deliveries", kv...)), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
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
	}
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
	registerOps(p, hulkStatus(), hulkBlocked(), hulkUnblock(), hulkList(),
		hulkAdd("hulk allow", "white", "Whitelist addresses in cPHulk"),
		hulkAdd("hulk block", "black", "Blacklist addresses in cPHulk"),
		hulkRemove())
}

func ipsParam() sdk.Param {
	return sdk.IP("ip", "IP address (repeat for several)").AsRequired().AsPositional().AsRepeated().AsResource()
}

func hulkListParam() sdk.Param {
	return sdk.EnumOf("list", "Which list", sdk.EnumValue{Value: "white", Aliases: []string{"whitelist", "allow"}}, sdk.EnumValue{Value: "black", Aliases: []string{"blacklist", "block"}})
}

func hulkStatus() op {
	return op{Name: "hulk status", Summary: "Whether cPHulk brute-force protection is on", Risk: sdk.RiskReadOnly,
		Examples: []string{"/whm hulk status"},
		Work:     reads("Read cPHulk's status", "cphulk_status", "Read the status"),
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
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
	}
}

func hulkBlocked() op {
	return op{Name: "hulk blocked", Summary: "Addresses cPHulk blocks for failed logins", Risk: sdk.RiskReadOnly,
		Examples: []string{"/whm hulk blocked"},
		Work:     reads("List blocked addresses", "get_cphulk_brutes", "List blocks"),
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
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
	}
}

func hulkUnblock() op {
	return op{Name: "hulk unblock", Summary: "Clear failed logins and blocks of addresses", Risk: sdk.RiskLow,
		Help:     "Removes cPHulk's login failures and firewall bans for the addresses. It does not whitelist them.",
		Params:   []sdk.Param{ipsParam()},
		Examples: []string{"/whm hulk unblock 192.0.2.45"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			ips := a.Strings("ip")
			return single("Unblock "+strings.Join(ips, ", "), callStep(c, "flush_cphulk_login_history_for_ips", "Clear failures and bans", client.Args{"ip": ips}, nil)), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
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
	}
}

func hulkList() op {
	return op{Name: "hulk list", Summary: "cPHulk's whitelist or blacklist", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{hulkListParam().AsRequired().AsPositional()},
		Examples: []string{"/whm hulk list white"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return single("Read the "+a.String("list")+" list", call(c, "read_cphulk_records", "Read the list", "list_name", a.String("list"))), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
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
	}
}

// hulkAdd is a command that puts addresses on cPHulk's list (white or
// black).
func hulkAdd(name, list, summary string) op {
	return op{Name: name, Summary: summary, Risk: sdk.RiskHigh,
		Params:   []sdk.Param{ipsParam(), sdk.FreeText("comment", "Why, for whoever reads the list next").AsRequired()},
		Examples: []string{"/whm " + name + " 203.0.113.7 comment=\"ticket 4411\""},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			ips := a.Strings("ip")
			w := single(fmt.Sprintf("Add %s to cPHulk's %s list: %s", strings.Join(ips, ", "), list, a.String("comment")),
				callStep(c, "create_cphulk_record", summary, client.Args{"list_name": {list}, "ip": ips, "comment": {a.String("comment")}}, nil))
			if list == "black" {
				w.Notes = append(w.Notes, "Every login from these addresses is refused.")
			}
			return w, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			return showHulkChange(res[0], r, "ips_added", "added to the "+list+" list")
		},
	}
}

func hulkRemove() op {
	return op{Name: "hulk remove", Summary: "Take addresses off cPHulk's whitelist or blacklist", Risk: sdk.RiskHigh,
		Params:   []sdk.Param{ipsParam(), hulkListParam().AsRequired()},
		Examples: []string{"/whm hulk remove 198.51.100.66 list=black"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			ips := a.Strings("ip")
			return single(fmt.Sprintf("Remove %s from cPHulk's %s list", strings.Join(ips, ", "), a.String("list")),
				callStep(c, "delete_cphulk_record", "Remove from the list", client.Args{"list_name": {a.String("list")}, "ip": ips}, nil)), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			return showHulkChange(res[0], r, "ips_removed", "removed from the "+a.String("list")+" list")
		},
	}
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

// services is how servicestatus answers.
type services struct {
	Service []record `json:"service"`
}

func registerServer(p *sdk.Plugin) {
	registerOps(p, serviceStatus(), serviceRestart(), serverInfo(), serverLoad(), serverDisk())
}

func serviceStatus() op {
	return op{Name: "service status", Summary: "Whether the server's services run", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{sdk.String("service", "One service (httpd, exim, mysql...)").AsPositional()},
		Examples: []string{"/whm service status", "/whm service status exim"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return single("Read service status", call(c, "servicestatus", "Read services", "service", a.String("service"))), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d services
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
	}
}

// findService reads one service's status, or explains that the server
// has no such service and names the ones the user probably meant.
func findService(ctx context.Context, c *client.Client, name string) (record, error) {
	if !serviceRE.MatchString(name) {
		return nil, sdk.BadArg("service", "%q is not a service name", name)
	}
	d, err := read[services](ctx, c, "servicestatus", nil)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, x := range d.Service {
		if x.s("name") == name {
			return x, nil
		}
		names = append(names, x.s("name"))
	}
	msg := fmt.Sprintf("the server has no service %q", name)
	if sug := sdk.Suggest(name, names); len(sug) > 0 {
		msg += "; did you mean " + strings.Join(sug, " or ") + "?"
	}
	return nil, sdk.BadArg("service", "%s", msg)
}

func serviceRestart() op {
	return op{Name: "service restart", Summary: "Restart a service", Risk: sdk.RiskHigh,
		Params:   []sdk.Param{sdk.String("service", "The service (httpd, exim, dovecot, mysql, named...)").AsRequired().AsPositional().AsResource()},
		Examples: []string{"/whm service restart exim"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			s := a.String("service")
			x, err := findService(ctx, c, s)
			if err != nil {
				return nil, err
			}
			// Whether it runs now is shown, not a fact: a restart starts
			// it either way, which is what was approved.
			w := single(fmt.Sprintf("Restart %s (%s, running: %s)", s, x.s("display_name"), yesNo(x.on("running"))), call(c, "restartservice", "Restart the service", "service", s))
			w.Notes = []string{"Connections to it drop while it restarts."}
			return w, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("%s restarted.", a.String("service"))
			var d record
			if res[0].Decode(&d) == nil && d.s("output") != "" {
				r.AddCode("Output", strings.ReplaceAll(d.s("output"), `\n`, "\n"))
			}
			return nil
		},
	}
}

// infoCalls are what server info reads, in one batch.
var infoCalls = []client.BatchCall{{Function: "gethostname"}, {Function: "version"}, {Function: "systemloadavg"}, {Function: "system_needs_reboot"}}

func serverInfo() op {
	return op{Name: "server info", Summary: "Host name, cPanel version, load and whether a reboot is due", Risk: sdk.RiskReadOnly,
		Aliases:  []string{"server status"},
		Examples: []string{"/whm server info"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			return single("Read the server's name, version, load and reboot state in one batch",
				callStep(c, "batch", "gethostname, version, systemloadavg, system_needs_reboot", client.BatchArgs(infoCalls, false), nil)), nil
		},
		Show: showServerInfo,
	}
}

func showServerInfo(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
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
			kv = append(kv, "Reboot needed", rebootText(d))
		}
	}
	r.AddKeyValues("Server", kv...)
	return nil
}

// rebootText says whether system_needs_reboot wants a reboot, and why.
func rebootText(d record) string {
	if !d.on("needs_reboot") {
		return "no"
	}
	why := []string{}
	if det, ok := d["details"].(map[string]any); ok {
		why = sortedKeys(det)
	}
	return "yes (" + strings.Join(why, ", ") + ")"
}

func serverLoad() op {
	return op{Name: "server load", Summary: "The server's load average", Risk: sdk.RiskReadOnly,
		Examples: []string{"/whm server load"},
		Work:     reads("Read the load average", "systemloadavg", "Read the load"),
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d record
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			r.AddKeyValues("Load average", "1 minute", d.s("one"), "5 minutes", d.s("five"), "15 minutes", d.s("fifteen"))
			return nil
		},
	}
}

func serverDisk() op {
	return op{Name: "server disk", Summary: "The server's disk partitions and their use", Risk: sdk.RiskReadOnly,
		Examples: []string{"/whm server disk"},
		Work:     reads("Read disk use", "getdiskusage", "Read partitions"),
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
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
	}
}
