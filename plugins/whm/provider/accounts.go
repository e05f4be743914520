package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/deskbot/deskbot/plugins/whm/client"
	"github.com/deskbot/deskbot/sdk"
)

// cPanel account names: lower-case letters and digits, starting with a
// letter; 16 characters for new accounts, older systems allowed more.
var userRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,31}$`)
var newUserRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)

func userParam(desc string) sdk.Param {
	return sdk.String("user", desc).AsRequired().AsPositional().AsResource()
}

func checkUser(u string) error {
	if !userRE.MatchString(u) {
		return sdk.BadArg("user", "%q is not a cPanel account name (lower-case letters and digits, starting with a letter)", u)
	}
	return nil
}

// record is one decoded WHM record (an account, a package).
type record map[string]any

// accounts is how listaccts, accountsummary and showbw answer.
type accounts struct {
	Acct []record `json:"acct"`
}

func (r record) s(k string) string {
	v, _ := scalarText(r[k])
	return v
}

func (r record) on(k string) bool {
	v := r.s(k)
	return v != "" && v != "0" && v != "false"
}

// lookup reads an account, or explains that there is none and names the
// accounts the user probably meant.
func lookup(ctx context.Context, c *client.Client, user string) (record, error) {
	if err := checkUser(user); err != nil {
		return nil, err
	}
	res, err := c.Call(ctx, "accountsummary", client.Args{"user": {user}}, nil)
	if err != nil {
		if accountMissing(err) {
			return nil, noAccount(ctx, c, "user", user)
		}
		return nil, summaryFailed(err)
	}
	return firstAcct(res, user)
}

// accountMissing reports whether err is WHM's answer that the account
// does not exist ("The “user1” account does not exist.", in the
// reference's words) and nothing else: a refused token, a missing ACL, a
// server error or a lost answer say nothing about the account.
func accountMissing(err error) bool {
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 0 || ae.Denied() {
		return false
	}
	r := strings.ToLower(ae.Reason)
	for _, w := range []string{"does not exist", "doesn't exist", "no such account", "no account"} {
		if strings.Contains(r, w) {
			return true
		}
	}
	return false
}

// summaryFailed says what an accountsummary failure other than a missing
// account is.
func summaryFailed(err error) error {
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Denied() {
		return fmt.Errorf("WHM refused to show the account: %w. The bot's API token lacks the access (its ACLs, or it is no longer valid); this says nothing about whether the account exists", err)
	}
	return err
}

func lookupDomain(ctx context.Context, c *client.Client, domain string) (record, error) {
	res, err := c.Call(ctx, "accountsummary", client.Args{"domain": {domain}}, nil)
	if err != nil {
		if accountMissing(err) {
			return nil, noAccount(ctx, c, "domain", domain)
		}
		return nil, summaryFailed(err)
	}
	return firstAcct(res, domain)
}

func firstAcct(res *client.Result, what string) (record, error) {
	var d accounts
	if err := res.Decode(&d); err != nil {
		return nil, err
	}
	if len(d.Acct) == 0 {
		return nil, fmt.Errorf("WHM returned no account for %q", what)
	}
	return d.Acct[0], nil
}

// noAccount is the error for a name that matches no account, with the
// closest names on the server.
func noAccount(ctx context.Context, c *client.Client, field, value string) error {
	msg := fmt.Sprintf("there is no account with %s %q on this server", field, value)
	if d, err := read[accounts](ctx, c, "listaccts", client.Args{"want": {"user,domain"}}); err == nil {
		var names []string
		for _, a := range d.Acct {
			names = append(names, a.s(field))
		}
		if s := sdk.Suggest(value, names); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
	}
	return sdk.BadArg(field, "%s", msg)
}

// describe names an account for a plan: "demo1 (demo1.example, plan basic)".
func describe(a record) string {
	s := fmt.Sprintf("%s (%s, plan %s, owner %s)", a.s("user"), a.s("domain"), a.s("plan"), a.s("owner"))
	if a.on("suspended") {
		s += ", suspended: " + a.s("suspendreason")
	}
	return s
}

// accountArg reads the positional argument of commands that take a user
// or a domain: a dot means a domain.
func accountArg(ctx context.Context, c *client.Client, v string) (record, error) {
	if strings.Contains(v, ".") {
		return lookupDomain(ctx, c, strings.ToLower(strings.TrimSuffix(v, ".")))
	}
	return lookup(ctx, c, v)
}

func unixTime(v string) string {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return v
	}
	return time.Unix(n, 0).UTC().Format("2006-01-02 15:04 UTC")
}

func accountState(a record) string {
	if a.on("suspended") {
		return "suspended: " + a.s("suspendreason")
	}
	return "active"
}

func mailState(a record) string {
	switch {
	case a.on("outgoing_mail_suspended"):
		return "outgoing suspended"
	case a.on("outgoing_mail_hold"):
		return "outgoing held"
	}
	return "normal"
}

// limitArg reads a size limit in megabytes: a number or "unlimited".
func limitArg(name, v string) (string, error) {
	v = strings.TrimSpace(strings.ToLower(v))
	if v == "unlimited" {
		return "unlimited", nil
	}
	if n, err := sdk.ParseSize(v); err == nil && strings.ContainsAny(v, "kmgtb") {
		mb := n / (1 << 20)
		if mb <= 0 {
			return "", sdk.BadArg(name, "%q is less than 1 MB", v)
		}
		return strconv.FormatInt(mb, 10), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return "", sdk.BadArg(name, "%q: give megabytes (2048), a size (2GB) or unlimited", v)
	}
	return strconv.FormatInt(n, 10), nil
}

func registerAccounts(p *sdk.Plugin) {
	registerOps(p, accountList(), accountInfo(), accountOwner(), accountSuspended(), accountSuspend(), accountUnsuspend(),
		accountCreate(), accountRemove(), accountPassword(), accountPackage(), accountBandwidth(), accountQuota(),
		accountUsage(), resellerList())
}

// accountFact is what a change to an account was planned from that its
// call does not show: the account as the plan describes it (domain,
// plan, owner, suspension). If it is another by the run, the run is
// refused.
func accountFact(a record) string { return "account " + describe(a) }

func accountList() op {
	return op{Name: "account list", Summary: "Accounts on the server, optionally filtered", Risk: sdk.RiskReadOnly,
		Params: []sdk.Param{
			sdk.String("search", "Part of a name to look for").AsPositional(),
			sdk.Enum("by", "What the search matches", "user", "domain", "owner", "ip", "package").WithDefault("user"),
		},
		Examples: []string{"/whm account list", "/whm account list shop by=domain", "/whm account list resell1 by=owner"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			args := []string{}
			if s := a.String("search"); s != "" {
				args = append(args, "search", regexp.QuoteMeta(s), "searchtype", a.String("by"), "searchmethod", "regex")
			}
			return single("List accounts", call(c, "listaccts", "List accounts", args...)), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d accounts
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			if len(d.Acct) == 0 {
				r.AddText("No account matches.")
				return nil
			}
			t := r.AddTable(fmt.Sprintf("%d accounts", len(d.Acct)), "user", "domain", "plan", "owner", "ip", "disk", "state", "mail")
			for _, x := range d.Acct {
				t.Row(x.s("user"), x.s("domain"), x.s("plan"), x.s("owner"), x.s("ip"), x.s("diskused")+" of "+x.s("disklimit"), accountState(x), mailState(x))
			}
			return nil
		},
	}
}

func accountInfo() op {
	return op{Name: "account info", Summary: "One account: domain, plan, owner, disk, suspension, mail", Risk: sdk.RiskReadOnly,
		Aliases:  []string{"account show"},
		Params:   []sdk.Param{sdk.String("account", "Account name or its main domain").AsRequired().AsPositional()},
		Examples: []string{"/whm account info demo1", "/whm account info shop.example"},
		Explain: func(ctx context.Context, c *client.Client, a sdk.Args, err error) error {
			if !accountMissing(err) {
				return summaryFailed(err)
			}
			// The error points at the parameter the user typed.
			field, v := "user", a.String("account")
			if strings.Contains(v, ".") {
				field, v = "domain", strings.ToLower(v)
			}
			err = noAccount(ctx, c, field, v)
			if ae, ok := errors.AsType[*sdk.ArgError](err); ok {
				ae.Param = "account"
			}
			return err
		},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			v := a.String("account")
			if strings.Contains(v, ".") {
				return single("Show the account of "+v, call(c, "accountsummary", "Read the account", "domain", strings.ToLower(v))), nil
			}
			if err := checkUser(v); err != nil {
				return nil, sdk.BadArg("account", "%q is neither a domain nor a cPanel account name", v)
			}
			return single("Show account "+v, call(c, "accountsummary", "Read the account", "user", v)), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			x, err := firstAcct(res[0], a.String("account"))
			if err != nil {
				return err
			}
			kv := []string{"User", x.s("user"), "Domain", x.s("domain"), "Owner", x.s("owner"), "Plan", x.s("plan"), "IP", x.s("ip"),
				"Contact", x.s("email"), "Created", unixTime(x.s("unix_startdate")), "Disk", x.s("diskused") + " of " + x.s("disklimit"),
				"State", accountState(x)}
			if x.on("suspended") {
				kv = append(kv, "Suspended since", unixTime(x.s("suspendtime")))
			}
			kv = append(kv, "Outgoing mail", mailState(x), "Shell", x.s("shell"), "Theme", x.s("theme"))
			r.AddKeyValues("Account "+x.s("user"), kv...)
			return nil
		},
	}
}

func accountOwner() op {
	return op{Name: "account owner", Summary: "Which account a domain belongs to", Risk: sdk.RiskReadOnly,
		Aliases:  []string{"account find", "domain owner"},
		Params:   []sdk.Param{sdk.Domain("domain", "The domain").AsRequired().AsPositional()},
		Examples: []string{"/whm account owner shop.example"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			d := a.String("domain")
			return single("Find the owner of "+d, call(c, "getdomainowner", "Find the domain's account", "domain", d)), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d struct {
				User *string `json:"user"`
			}
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			if d.User == nil || *d.User == "" {
				r.AddText("No account on this server owns %s.", a.String("domain"))
				return nil
			}
			r.AddText("%s belongs to account %s.", a.String("domain"), *d.User)
			return nil
		},
	}
}

func accountSuspended() op {
	return op{Name: "account suspended", Summary: "Suspended accounts and why", Risk: sdk.RiskReadOnly,
		Examples: []string{"/whm account suspended"},
		Work:     reads("List suspended accounts", "listsuspended", "List suspended accounts"),
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d struct {
				Account []record `json:"account"`
			}
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			if len(d.Account) == 0 {
				r.AddText("No account is suspended.")
				return nil
			}
			t := r.AddTable(fmt.Sprintf("%d suspended", len(d.Account)), "user", "owner", "reason", "since")
			for _, x := range d.Account {
				t.Row(x.s("user"), x.s("owner"), x.s("reason"), unixTime(x.s("unixtime")))
			}
			return nil
		},
	}
}

func accountSuspend() op {
	return op{Name: "account suspend", Summary: "Suspend an account: its sites, mail and FTP stop", Risk: sdk.RiskHigh,
		Params: []sdk.Param{
			userParam("The account to suspend"),
			sdk.FreeText("reason", "Why; the customer's owner and other staff see it").AsRequired(),
			sdk.Bool("lock", "Keep the account's reseller from unsuspending it").WithDefault("no"),
		},
		Examples: []string{"/whm account suspend demo1 reason=\"abuse: phishing kit, ticket 4411\""},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			x, err := lookup(ctx, c, a.String("user"))
			if err != nil {
				return nil, err
			}
			reason := strings.TrimSpace(a.String("reason"))
			if reason == "" {
				return nil, sdk.BadArg("reason", "say why the account is suspended")
			}
			w := &work{Summary: fmt.Sprintf("Suspend %s. Reason: %s", describe(x), reason), Facts: []string{accountFact(x)}}
			if x.on("suspended") {
				w.Notes = append(w.Notes, "It is already suspended; this replaces the reason.")
			}
			lock := ""
			if a.Bool("lock") {
				lock = "1"
				w.Notes = append(w.Notes, "Its reseller will not be able to unsuspend it.")
			}
			w.Steps = []step{call(c, "suspendacct", "Suspend the account", "user", x.s("user"), "reason", reason, "disallowun", lock)}
			return w, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("Account %s is suspended.", a.String("user"))
			return nil
		},
	}
}

func accountUnsuspend() op {
	return op{Name: "account unsuspend", Summary: "Bring a suspended account back", Risk: sdk.RiskHigh,
		Params:   []sdk.Param{userParam("The account to unsuspend")},
		Examples: []string{"/whm account unsuspend demo1"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			x, err := lookup(ctx, c, a.String("user"))
			if err != nil {
				return nil, err
			}
			if !x.on("suspended") {
				return nil, sdk.BadArg("user", "account %s is not suspended", x.s("user"))
			}
			w := single(fmt.Sprintf("Unsuspend %s", describe(x)), call(c, "unsuspendacct", "Unsuspend the account", "user", x.s("user")))
			w.Facts = []string{accountFact(x)}
			return w, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("Account %s is active again.", a.String("user"))
			return nil
		},
	}
}

func accountCreate() op {
	return op{Name: "account create", Summary: "Create a cPanel account", Risk: sdk.RiskHigh,
		Help: "The password is asked for privately and never shown back: WHM is told not to print it (showpass=n).",
		Params: []sdk.Param{
			userParam("The new account's name (up to 16 lower-case letters and digits)"),
			sdk.Domain("domain", "Its main domain").AsRequired().AsPositional(),
			sdk.String("plan", "Hosting plan (package)").WithDefault("default"),
			sdk.Email("email", "Contact address"),
			sdk.String("password", "The account's password").AsRequired().AsSensitive(),
		},
		Examples: []string{"/whm account create newshop newshop.example plan=basic email=owner@newshop.example"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			u := a.String("user")
			if !newUserRE.MatchString(u) {
				return nil, sdk.BadArg("user", "%q: a new account name is 1 to 16 lower-case letters and digits, starting with a letter", u)
			}
			if len(a.String("password")) < 8 {
				return nil, sdk.BadArg("password", "use at least 8 characters")
			}
			if err := checkPackage(ctx, c, a.String("plan")); err != nil {
				return nil, err
			}
			return single(fmt.Sprintf("Create account %s for %s on plan %s", u, a.String("domain"), a.String("plan")),
				call(c, "createacct", "Create the account", "username", u, "domain", a.String("domain"), "plan", a.String("plan"),
					"contactemail", a.String("email"), "password", a.String("password"), "showpass", "n")), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d record
			_ = res[0].Decode(&d)
			r.AddKeyValues("Account "+a.String("user")+" created", "Domain", a.String("domain"), "Plan", a.String("plan"), "IP", d.s("ip"),
				"Name servers", strings.Trim(d.s("nameserver")+", "+d.s("nameserver2"), ", "))
			return nil
		},
	}
}

func accountRemove() op {
	return op{Name: "account remove", Summary: "Remove an account and everything in it", Risk: sdk.RiskCritical,
		Aliases: []string{"account delete", "account terminate"},
		Help:    "Removes the home directory, databases, mailboxes and logs for good. The DNS zone is kept unless keepdns=no.",
		Params: []sdk.Param{
			userParam("The account to remove"),
			sdk.Bool("keepdns", "Keep the account's DNS zone").WithDefault("yes"),
		},
		Examples: []string{"/whm account remove oldsite", "/whm account remove oldsite keepdns=no"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			x, err := lookup(ctx, c, a.String("user"))
			if err != nil {
				return nil, err
			}
			keep := "1"
			// The disk use the summary shows moves all the time; the
			// account it describes is the fact.
			w := &work{Summary: fmt.Sprintf("Remove %s for good, with %s of files, its databases and mail", describe(x), x.s("diskused")), Facts: []string{accountFact(x)}}
			if a.Bool("keepdns") {
				w.Notes = append(w.Notes, "The DNS zone of "+x.s("domain")+" is kept.")
			} else {
				keep = "0"
				w.Notes = append(w.Notes, "The DNS zone of "+x.s("domain")+" is removed too.")
			}
			w.Steps = []step{call(c, "removeacct", "Remove the account", "username", x.s("user"), "keepdns", keep)}
			return w, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("Account %s is removed.", a.String("user"))
			return nil
		},
	}
}

func accountPassword() op {
	return op{Name: "account password", Summary: "Set an account's password", Risk: sdk.RiskCritical,
		Help:     "The old password stops working at once, for cPanel, FTP, mail and (by WHM's default) the account's databases. The new one is asked for privately and never shown.",
		Params:   []sdk.Param{userParam("The account"), sdk.String("password", "The new password").AsRequired().AsSensitive()},
		Examples: []string{"/whm account password demo1"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			x, err := lookup(ctx, c, a.String("user"))
			if err != nil {
				return nil, err
			}
			if len(a.String("password")) < 8 {
				return nil, sdk.BadArg("password", "use at least 8 characters")
			}
			w := single("Replace the password of "+describe(x), call(c, "passwd", "Set the password", "user", x.s("user"), "password", a.String("password")))
			w.Facts = []string{accountFact(x)}
			return w, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("The password of %s is changed.", a.String("user"))
			return nil
		},
	}
}

func accountPackage() op {
	return op{Name: "account package", Summary: "Move an account to another hosting plan", Risk: sdk.RiskHigh,
		Aliases:  []string{"account plan"},
		Help:     "The plan's limits replace the account's, including any set by hand.",
		Params:   []sdk.Param{userParam("The account"), sdk.String("plan", "The new plan").AsRequired().AsPositional()},
		Examples: []string{"/whm account package demo1 pro"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			x, err := lookup(ctx, c, a.String("user"))
			if err != nil {
				return nil, err
			}
			if err := checkPackage(ctx, c, a.String("plan")); err != nil {
				return nil, err
			}
			if x.s("plan") == a.String("plan") {
				return nil, sdk.BadArg("plan", "%s is already on plan %s", x.s("user"), x.s("plan"))
			}
			return &work{Summary: fmt.Sprintf("Move %s from plan %s to %s", x.s("user"), x.s("plan"), a.String("plan")),
				Notes: []string{"Limits set by hand on the account are replaced by the plan's."},
				Facts: []string{"account " + x.s("user") + " is on plan " + x.s("plan")},
				Steps: []step{call(c, "changepackage", "Change the plan", "user", x.s("user"), "pkg", a.String("plan"))}}, nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("Account %s is now on plan %s.", a.String("user"), a.String("plan"))
			if raw := strings.TrimSpace(res[0].Metadata.Output.Raw); raw != "" {
				r.AddCode("Changes", strings.TrimSpace(strings.NewReplacer("<pre>", "", "</pre>", "").Replace(raw)))
			}
			return nil
		},
	}
}

func accountBandwidth() op {
	return op{Name: "account bandwidth", Summary: "Set an account's monthly bandwidth limit", Risk: sdk.RiskHigh,
		Help:     "limit is required: megabytes, a size (50GB) or unlimited. (WHM's limitbw removes the limit when none is given; this command never does that by accident.)",
		Params:   []sdk.Param{userParam("The account"), sdk.String("limit", "Megabytes, a size like 50GB, or unlimited").AsRequired()},
		Examples: []string{"/whm account bandwidth demo1 limit=50GB", "/whm account bandwidth demo1 limit=unlimited"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			lim, err := limitArg("limit", a.String("limit"))
			if err != nil {
				return nil, err
			}
			x, err := lookup(ctx, c, a.String("user"))
			if err != nil {
				return nil, err
			}
			return single(fmt.Sprintf("Set the bandwidth limit of %s to %s", x.s("user"), megabytes(lim)),
				call(c, "limitbw", "Set the bandwidth limit", "user", x.s("user"), "bwlimit", lim)), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("%s", res[0].Metadata.Reason)
			return nil
		},
	}
}

func accountQuota() op {
	return op{Name: "account quota", Summary: "Set an account's disk quota", Risk: sdk.RiskHigh,
		Params:   []sdk.Param{userParam("The account"), sdk.String("quota", "Megabytes, a size like 10GB, or unlimited").AsRequired()},
		Examples: []string{"/whm account quota demo1 quota=10GB"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			q, err := limitArg("quota", a.String("quota"))
			if err != nil {
				return nil, err
			}
			x, err := lookup(ctx, c, a.String("user"))
			if err != nil {
				return nil, err
			}
			// The disk use shown is for the approver's information; the
			// quota is set whatever it has become.
			return single(fmt.Sprintf("Set the disk quota of %s (using %s) to %s", x.s("user"), x.s("diskused"), megabytes(q)),
				call(c, "editquota", "Set the quota", "user", x.s("user"), "quota", q)), nil
		},
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			r.AddText("Quota of %s set.", a.String("user"))
			return nil
		},
	}
}

func accountUsage() op {
	return op{Name: "account usage", Summary: "Disk and bandwidth use of accounts", Risk: sdk.RiskReadOnly,
		Params:   []sdk.Param{sdk.String("user", "One account").AsPositional()},
		Examples: []string{"/whm account usage", "/whm account usage shopco"},
		Work: func(ctx context.Context, c *client.Client, a sdk.Args) (*work, error) {
			var bw []string
			if u := a.String("user"); u != "" {
				if err := checkUser(u); err != nil {
					return nil, err
				}
				bw = []string{"search", u, "searchtype", "user"}
			}
			return &work{Summary: "Show disk and bandwidth use", Steps: []step{
				call(c, "showbw", "Read this month's bandwidth", bw...),
				call(c, "get_disk_usage", "Read disk use"),
			}}, nil
		},
		Show: showUsage,
	}
}

func showUsage(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
	var bw accounts
	var du struct {
		Accounts []record `json:"accounts"`
	}
	if err := res[0].Decode(&bw); err != nil {
		return err
	}
	if err := res[1].Decode(&du); err != nil {
		return err
	}
	disk := map[string]record{}
	for _, d := range du.Accounts {
		disk[d.s("user")] = d
	}
	t := r.AddTable("", "user", "domain", "bandwidth this month", "bandwidth limit", "disk used", "disk limit")
	n := 0
	for _, x := range bw.Acct {
		u := x.s("user")
		if want := a.String("user"); want != "" && u != want {
			continue
		}
		d := disk[u]
		t.Row(u, x.s("maindomain"), bytesText(x.s("totalbytes")), limitBytes(x.s("limit")), blocksText(d.s("blocks_used")), limitBlocks(d.s("blocks_limit")))
		n++
	}
	if n == 0 {
		r.Parts = r.Parts[:0]
		r.AddText("No account matches.")
	}
	return nil
}

func resellerList() op {
	return op{Name: "reseller list", Summary: "Resellers on the server", Risk: sdk.RiskReadOnly,
		Examples: []string{"/whm reseller list"},
		Work:     reads("List resellers", "listresellers", "List resellers"),
		Show: func(c *client.Client, a sdk.Args, res []*client.Result, r *sdk.Result) error {
			var d struct {
				Reseller []string `json:"reseller"`
			}
			if err := res[0].Decode(&d); err != nil {
				return err
			}
			if len(d.Reseller) == 0 {
				r.AddText("There are no resellers.")
				return nil
			}
			r.AddText("Resellers: %s", strings.Join(d.Reseller, ", "))
			return nil
		},
	}
}

func megabytes(v string) string {
	if v == "unlimited" {
		return "unlimited"
	}
	return v + " MB"
}

func bytesText(v string) string {
	n, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return v
	}
	units := []string{"B", "KB", "MB", "GB", "TB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", n)
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}

func limitBytes(v string) string {
	if v == "" || v == "0" {
		return "unlimited"
	}
	return bytesText(v)
}

// blocksText reads 1 KiB disk blocks.
func blocksText(v string) string {
	n, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return v
	}
	return bytesText(strconv.FormatFloat(n*1024, 'f', 0, 64))
}

func limitBlocks(v string) string {
	if v == "" || v == "0" {
		return "unlimited"
	}
	return blocksText(v)
}
