package sim

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

func (s *Server) handlers() map[string]handler {
	return map[string]handler{
		// Accounts
		"listaccts":      s.listaccts,
		"accountsummary": s.accountsummary,
		"listsuspended":  s.listsuspended,
		"getdomainowner": s.getdomainowner,
		"domainuserdata": s.domainuserdata,
		"suspendacct":    s.suspendacct,
		"unsuspendacct":  s.unsuspendacct,
		"createacct":     s.createacct,
		"removeacct":     s.removeacct,
		"passwd":         s.passwd,
		"changepackage":  s.changepackage,
		"limitbw":        s.limitbw,
		"editquota":      s.editquota,
		"showbw":         s.showbw,
		"listresellers":  s.listresellers,
		"get_disk_usage": s.getDiskUsage,
		// Packages
		"listpkgs":   s.listpkgs,
		"getpkginfo": s.getpkginfo,
		"killpkg":    s.killpkg,
		// DNS
		"listzones":          s.listzones,
		"parse_dns_zone":     s.parseDNSZone,
		"addzonerecord":      s.addzonerecord,
		"removezonerecord":   s.removezonerecord,
		"mass_edit_dns_zone": s.massEditDNSZone,
		"resetzone":          s.resetzone,
		"killdns":            s.killdns,
		// cPHulk
		"cphulk_status":                      s.cphulkStatus,
		"get_cphulk_brutes":                  s.getCphulkBrutes,
		"read_cphulk_records":                s.readCphulkRecords,
		"create_cphulk_record":               s.createCphulkRecord,
		"delete_cphulk_record":               s.deleteCphulkRecord,
		"flush_cphulk_login_history_for_ips": s.flushForIPs,
		"flush_cphulk_login_history":         s.flushAll,
		// Backups and restores
		"backup_date_list":                      s.backupDateList,
		"backup_user_list":                      s.backupUserList,
		"restore_queue_state":                   s.restoreQueueState,
		"restore_queue_list_pending":            s.restoreList(func(st *State) []RestoreJob { return st.Pending }),
		"restore_queue_list_active":             s.restoreList(func(st *State) []RestoreJob { return st.Active }),
		"restore_queue_list_completed":          s.restoreCompleted,
		"restore_queue_add_task":                s.restoreAdd,
		"restore_queue_clear_pending_task":      s.restoreClear,
		"restore_queue_clear_all_pending_tasks": s.restoreClearAll,
		"restore_queue_activate":                s.restoreActivate,
		// Mail
		"hold_outgoing_email":      s.mailFlag(func(a *Account) *bool { return &a.MailHold }, true),
		"release_outgoing_email":   s.mailFlag(func(a *Account) *bool { return &a.MailHold }, false),
		"suspend_outgoing_email":   s.mailFlag(func(a *Account) *bool { return &a.MailSuspended }, true),
		"unsuspend_outgoing_email": s.mailFlag(func(a *Account) *bool { return &a.MailSuspended }, false),
		"list_pops_for":            s.listPopsFor,
		// SSL
		"fetchsslinfo":                     s.fetchsslinfo,
		"get_autossl_problems_for_domain":  s.autosslForDomain,
		"get_autossl_problems_for_user":    s.autosslForUser,
		"start_autossl_check_for_one_user": s.autosslCheck,
		// Server
		"servicestatus":  s.servicestatus,
		"restartservice": s.restartservice,
		"gethostname": func(w http.ResponseWriter, fn string, _ url.Values) bool {
			answer(w, fn, map[string]any{"hostname": s.st.Hostname}, "OK", "")
			return false
		},
		"systemloadavg": func(w http.ResponseWriter, fn string, _ url.Values) bool {
			answer(w, fn, map[string]any{"one": s.st.Load[0], "five": s.st.Load[1], "fifteen": s.st.Load[2]}, "OK", "")
			return false
		},
	}
}

// need returns the named argument or refuses the call the way WHM does.
func need(w http.ResponseWriter, fn string, args url.Values, names ...string) (string, bool) {
	for _, n := range names {
		if v := args.Get(n); v != "" {
			return v, true
		}
	}
	refuse(w, fn, fmt.Sprintf("The “%s” parameter is required.", names[0]))
	return "", false
}

func (s *Server) userArg(w http.ResponseWriter, fn string, args url.Values, names ...string) (*Account, bool) {
	if len(names) == 0 {
		names = []string{"user"}
	}
	u, ok := need(w, fn, args, names...)
	if !ok {
		return nil, false
	}
	a := s.account(u)
	if a == nil {
		refuse(w, fn, fmt.Sprintf("The user “%s” does not exist.", u))
		return nil, false
	}
	return a, true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *Server) acct(a *Account) map[string]any {
	reason := "not suspended"
	if a.Suspended {
		reason = a.SuspendReason
	}
	var st any
	if a.Suspended {
		st = a.SuspendTime
	}
	return map[string]any{
		"user": a.User, "domain": a.Domain, "plan": a.Plan, "owner": a.Owner, "email": a.Email, "ip": a.IP,
		"suspended": b2i(a.Suspended), "suspendreason": reason, "suspendtime": st,
		"diskused": strconv.FormatInt(a.DiskUsedMB, 10) + "M", "disklimit": mb(a.QuotaMB),
		"startdate":          time.Unix(a.StartDate, 0).UTC().Format("06 Jan 02 15:04"),
		"unix_startdate":     a.StartDate,
		"outgoing_mail_hold": b2i(a.MailHold), "outgoing_mail_suspended": b2i(a.MailSuspended),
		"maxpop": "unlimited", "maxsql": "unlimited", "theme": "jupiter", "shell": "/bin/bash", "partition": "home",
		"is_locked": 0, "backup": 1, "has_backup": 1, "mailbox_format": "maildir",
	}
}

func (s *Server) listaccts(w http.ResponseWriter, fn string, args url.Values) bool {
	search, field, method := args.Get("search"), args.Get("searchtype"), args.Get("searchmethod")
	if field == "" {
		field = "user"
	}
	var match func(string) bool
	switch {
	case search == "":
		match = func(string) bool { return true }
	case method == "exact":
		match = func(v string) bool { return v == search }
	default:
		re, err := regexp.Compile(search)
		if err != nil {
			refuse(w, fn, fmt.Sprintf("Invalid regular expression “%s”.", search))
			return false
		}
		match = re.MatchString
	}
	var want map[string]bool
	if wl := args.Get("want"); wl != "" {
		want = map[string]bool{}
		for _, f := range strings.Split(wl, ",") {
			want[strings.TrimSpace(f)] = true
		}
	}
	out := []map[string]any{}
	for _, a := range s.st.Accounts {
		var v string
		switch field {
		case "domain":
			v = a.Domain
		case "owner":
			v = a.Owner
		case "ip":
			v = a.IP
		case "package":
			v = a.Plan
		case "user":
			v = a.User
		default:
			refuse(w, fn, fmt.Sprintf("Invalid searchtype “%s”.", field))
			return false
		}
		if !match(v) {
			continue
		}
		m := s.acct(a)
		if want != nil {
			for k := range m {
				if !want[k] {
					delete(m, k)
				}
			}
		}
		out = append(out, m)
	}
	answer(w, fn, map[string]any{"acct": out}, "OK", "")
	return false
}

func (s *Server) accountsummary(w http.ResponseWriter, fn string, args url.Values) bool {
	var a *Account
	switch {
	case args.Get("user") != "":
		a = s.account(args.Get("user"))
	case args.Get("domain") != "":
		a = s.accountByDomain(args.Get("domain"))
	default:
		refuse(w, fn, "You must specify either a user or a domain.")
		return false
	}
	if a == nil {
		refuse(w, fn, "Account does not exist.")
		return false
	}
	answer(w, fn, map[string]any{"acct": []any{s.acct(a)}}, "OK", "")
	return false
}

func (s *Server) listsuspended(w http.ResponseWriter, fn string, _ url.Values) bool {
	out := []map[string]any{}
	for _, a := range s.st.Accounts {
		if a.Suspended {
			out = append(out, map[string]any{"user": a.User, "owner": a.Owner, "reason": a.SuspendReason, "unixtime": a.SuspendTime,
				"time": time.Unix(a.SuspendTime, 0).UTC().Format("Mon Jan _2 15:04:05 2006"), "is_locked": 0})
		}
	}
	answer(w, fn, map[string]any{"account": out}, "OK", "")
	return false
}

func (s *Server) getdomainowner(w http.ResponseWriter, fn string, args url.Values) bool {
	d, ok := need(w, fn, args, "domain")
	if !ok {
		return false
	}
	a := s.accountByDomain(d)
	if a == nil {
		// WHM answers success with a null user for an unknown domain.
		answer(w, fn, map[string]any{"user": nil}, "OK", "")
		return false
	}
	answer(w, fn, map[string]any{"user": a.User}, "OK", "")
	return false
}

func (s *Server) domainuserdata(w http.ResponseWriter, fn string, args url.Values) bool {
	d, ok := need(w, fn, args, "domain")
	if !ok {
		return false
	}
	a := s.accountByDomain(d)
	if a == nil {
		refuse(w, fn, fmt.Sprintf("The domain “%s” does not exist.", d))
		return false
	}
	answer(w, fn, map[string]any{"userdata": map[string]any{
		"servername": a.Domain, "user": a.User, "owner": a.Owner, "ip": a.IP, "port": 80,
		"documentroot": "/home/" + a.User + "/public_html", "homedir": "/home/" + a.User,
		"serveralias": "www." + a.Domain + " mail." + a.Domain,
	}}, "Obtained userdata.", "")
	return false
}

func (s *Server) suspendacct(w http.ResponseWriter, fn string, args url.Values) bool {
	a, ok := s.userArg(w, fn, args)
	if !ok {
		return false
	}
	reason := args.Get("reason")
	if reason == "" {
		reason = "Unknown"
	}
	a.Suspended, a.SuspendReason, a.SuspendTime = true, reason, s.now().Unix()
	answer(w, fn, nil, "OK", fmt.Sprintf("Changing Shell to /bin/false...Done\nLocking Password...Done\nSuspending mysql users\nSuspending websites...\nSuspending FTP accounts...\n%s's account has been suspended\n", a.User))
	return true
}

func (s *Server) unsuspendacct(w http.ResponseWriter, fn string, args url.Values) bool {
	a, ok := s.userArg(w, fn, args)
	if !ok {
		return false
	}
	if !a.Suspended {
		refuse(w, fn, fmt.Sprintf("The account “%s” is not suspended.", a.User))
		return false
	}
	a.Suspended, a.SuspendReason, a.SuspendTime = false, "", 0
	answer(w, fn, nil, "OK", "")
	return true
}

var userRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)

func (s *Server) createacct(w http.ResponseWriter, fn string, args url.Values) bool {
	user, ok := need(w, fn, args, "username")
	if !ok {
		return false
	}
	if !userRE.MatchString(user) {
		refuse(w, fn, fmt.Sprintf("“%s” is not a valid username: use up to 16 lower-case letters and digits, starting with a letter.", user))
		return false
	}
	domain := strings.ToLower(args.Get("domain"))
	if domain == "" {
		refuse(w, fn, "You must specify a domain name.")
		return false
	}
	if s.account(user) != nil {
		refuse(w, fn, fmt.Sprintf("The account “%s” already exists.", user))
		return false
	}
	if s.accountByDomain(domain) != nil || s.st.Zones[domain] != nil {
		refuse(w, fn, fmt.Sprintf("The domain “%s” already exists.", domain))
		return false
	}
	plan := args.Get("plan")
	if plan == "" {
		plan = args.Get("pkgname")
	}
	if plan == "" {
		plan = "default"
	}
	var pkg *Package
	for _, p := range s.st.Packages {
		if p.Name == plan {
			pkg = p
		}
	}
	if pkg == nil {
		refuse(w, fn, fmt.Sprintf("The package “%s” does not exist.", plan))
		return false
	}
	pw := args.Get("password")
	if pw == "" {
		pw = args.Get("pass")
	}
	if pw != "" && len(pw) < 8 {
		refuse(w, fn, "Sorry, the password you selected cannot be used because it is too weak and would be too easy to guess.")
		return false
	}
	a := &Account{User: user, Domain: domain, Plan: plan, Email: args.Get("contactemail"), IP: "203.0.113.21", Owner: "root",
		QuotaMB: pkg.QuotaMB, BWLimitMB: pkg.BWMB, StartDate: s.now().Unix(), PasswordSHA256: hashPassword(pw)}
	if o := args.Get("owner"); o != "" {
		a.Owner = o
	}
	s.st.Accounts = append(s.st.Accounts, a)
	s.st.Zones[domain] = defaultZone(domain, a.IP, s.st.Hostname)
	s.st.Serials[domain] = 2026112701
	raw := "Validating Username...Done\nValidating IP...Done\nCreating the account...\n+===================================+\n| New Account Info                  |\n+===================================+\n| Domain: " + domain + "\n| UserName: " + user + "\n"
	if args.Get("showpass") != "n" && args.Get("showpass") != "0" {
		raw += "| PassWord: " + pw + "\n"
	}
	raw += "+===================================+\n...Done\n"
	answer(w, fn, map[string]any{"ip": a.IP, "package": plan, "nameserver": "ns1.example.net", "nameserver2": "ns2.example.net"}, "Account Creation Ok", raw)
	return true
}

func (s *Server) removeacct(w http.ResponseWriter, fn string, args url.Values) bool {
	a, ok := s.userArg(w, fn, args, "username", "user")
	if !ok {
		return false
	}
	for i, x := range s.st.Accounts {
		if x == a {
			s.st.Accounts = append(s.st.Accounts[:i], s.st.Accounts[i+1:]...)
			break
		}
	}
	raw := fmt.Sprintf("Running pre removal script......Done\nKilling all processes owned by user......Done\nRemoving User & Group......Done\n%s account removed\n", a.User)
	if args.Get("keepdns") != "1" {
		delete(s.st.Zones, a.Domain)
		delete(s.st.Serials, a.Domain)
		raw += "Removing DNS Entries......Done\n"
	} else {
		raw += "Keeping DNS Entries\n"
	}
	answer(w, fn, nil, a.User+" account removed", raw)
	return true
}

func (s *Server) passwd(w http.ResponseWriter, fn string, args url.Values) bool {
	a, ok := s.userArg(w, fn, args)
	if !ok {
		return false
	}
	pw, ok := need(w, fn, args, "password")
	if !ok {
		return false
	}
	if len(pw) < 8 {
		refuse(w, fn, "Sorry, the password you selected cannot be used because it is too weak and would be too easy to guess.")
		return false
	}
	a.PasswordSHA256 = hashPassword(pw)
	answer(w, fn, map[string]any{"app": []string{"system", "ftp", "mail", "mysql"}}, fmt.Sprintf("Password changed for user “%s”.", a.User), "")
	return true
}

func (s *Server) pkg(name string) *Package {
	for _, p := range s.st.Packages {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func (s *Server) changepackage(w http.ResponseWriter, fn string, args url.Values) bool {
	a, ok := s.userArg(w, fn, args)
	if !ok {
		return false
	}
	name, ok := need(w, fn, args, "pkg")
	if !ok {
		return false
	}
	p := s.pkg(name)
	if p == nil {
		refuse(w, fn, fmt.Sprintf("Specified package “%s” does not exist.", name))
		return false
	}
	raw := fmt.Sprintf("Changing the account bandwidth limit from “%s” to “%s”.\nChanging the disk quota from “%s” to “%s”.\n", mb(a.BWLimitMB), mb(p.BWMB), mb(a.QuotaMB), mb(p.QuotaMB))
	a.Plan, a.QuotaMB, a.BWLimitMB = p.Name, p.QuotaMB, p.BWMB
	answer(w, fn, nil, "Account Upgraded/Downgraded", raw)
	return true
}

func parseMB(v string) (int64, bool) {
	if v == "" || strings.EqualFold(v, "unlimited") {
		return 0, true
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(strings.ToUpper(v), "M"), 10, 64)
	return n, err == nil && n >= 0
}

func (s *Server) limitbw(w http.ResponseWriter, fn string, args url.Values) bool {
	a, ok := s.userArg(w, fn, args)
	if !ok {
		return false
	}
	n, ok := parseMB(args.Get("bwlimit"))
	if !ok {
		refuse(w, fn, fmt.Sprintf("Invalid bandwidth limit “%s”.", args.Get("bwlimit")))
		return false
	}
	a.BWLimitMB = n
	answer(w, fn, map[string]any{"bwlimits": []any{map[string]any{
		"bwlimit": n * 1024 * 1024, "bwlimitenable": b2i(n > 0), "unlimited": b2i(n == 0), "domains": []string{a.Domain},
		"human_bwlimit": humanMB(n), "human_bwused": humanBytes(a.BWUsedBytes),
	}}}, fmt.Sprintf("Bandwidth Limit for %s has been set to %s megabytes", a.User, mb(n)), "")
	return true
}

func humanMB(n int64) string {
	if n == 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%d MB", n)
}

func humanBytes(n int64) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprintf("%.2f MB", float64(n)/(1<<20))
}

func (s *Server) editquota(w http.ResponseWriter, fn string, args url.Values) bool {
	a, ok := s.userArg(w, fn, args)
	if !ok {
		return false
	}
	q, ok := need(w, fn, args, "quota")
	if !ok {
		return false
	}
	n, ok := parseMB(q)
	if !ok {
		refuse(w, fn, fmt.Sprintf("Invalid quota “%s”.", q))
		return false
	}
	a.QuotaMB = n
	answer(w, fn, nil, "Set quota for user.", "")
	return true
}

func (s *Server) showbw(w http.ResponseWriter, fn string, args url.Values) bool {
	search, field := args.Get("search"), args.Get("searchtype")
	out := []map[string]any{}
	var total int64
	for _, a := range s.st.Accounts {
		v := a.User
		switch field {
		case "domain":
			v = a.Domain
		case "owner":
			v = a.Owner
		case "ip":
			v = a.IP
		case "package":
			v = a.Plan
		}
		if search != "" && !strings.Contains(v, search) {
			continue
		}
		total += a.BWUsedBytes
		out = append(out, map[string]any{"user": a.User, "maindomain": a.Domain, "owner": a.Owner, "totalbytes": a.BWUsedBytes,
			"limit": a.BWLimitMB * 1024 * 1024, "deleted": 0, "reseller": a.Owner,
			"bwusage": []any{map[string]any{"domain": a.Domain, "usage": a.BWUsedBytes, "deleted": 0}}})
	}
	now := s.now().UTC()
	answer(w, fn, map[string]any{"acct": out, "month": int(now.Month()), "year": now.Year(), "reseller": "root", "totalused": total}, "OK", "")
	return false
}

func (s *Server) listresellers(w http.ResponseWriter, fn string, _ url.Values) bool {
	answer(w, fn, map[string]any{"reseller": s.st.Resellers}, "OK", "")
	return false
}

func (s *Server) getDiskUsage(w http.ResponseWriter, fn string, _ url.Values) bool {
	out := []map[string]any{}
	for _, a := range s.st.Accounts {
		var limit any
		if a.QuotaMB > 0 {
			limit = a.QuotaMB * 1024
		}
		out = append(out, map[string]any{"user": a.User, "blocks_used": a.DiskUsedMB * 1024, "blocks_limit": limit, "inodes_used": a.DiskUsedMB * 12, "inodes_limit": nil})
	}
	answer(w, fn, map[string]any{"accounts": out}, "OK", "")
	return false
}

func (s *Server) pkgJSON(p *Package) map[string]any {
	return map[string]any{"name": p.Name, "QUOTA": mbPlain(p.QuotaMB), "BWLIMIT": mbPlain(p.BWMB), "MAXPOP": p.MaxPOP, "MAXSQL": p.MaxSQL,
		"MAXFTP": "unlimited", "MAXSUB": "unlimited", "MAXADDON": "unlimited", "MAXPARK": "unlimited", "CPMOD": "jupiter", "FEATURELIST": "default", "HASSHELL": "n", "IP": "n", "CGI": "y", "LANG": "en"}
}

func mbPlain(n int64) any {
	if n == 0 {
		return "unlimited"
	}
	return n
}

func (s *Server) listpkgs(w http.ResponseWriter, fn string, _ url.Values) bool {
	out := []map[string]any{}
	for _, p := range s.st.Packages {
		out = append(out, s.pkgJSON(p))
	}
	answer(w, fn, map[string]any{"pkg": out}, "OK", "")
	return false
}

func (s *Server) getpkginfo(w http.ResponseWriter, fn string, args url.Values) bool {
	name, ok := need(w, fn, args, "pkg")
	if !ok {
		return false
	}
	p := s.pkg(name)
	if p == nil {
		refuse(w, fn, fmt.Sprintf("The package “%s” does not exist.", name))
		return false
	}
	m := s.pkgJSON(p)
	delete(m, "name")
	answer(w, fn, map[string]any{"pkg": m}, "OK", "")
	return false
}

func (s *Server) killpkg(w http.ResponseWriter, fn string, args url.Values) bool {
	name, ok := need(w, fn, args, "pkgname")
	if !ok {
		return false
	}
	for i, p := range s.st.Packages {
		if p.Name == name {
			s.st.Packages = append(s.st.Packages[:i], s.st.Packages[i+1:]...)
			answer(w, fn, nil, "OK", "")
			return true
		}
	}
	refuse(w, fn, fmt.Sprintf("The package “%s” does not exist.", name))
	return false
}

func (s *Server) listzones(w http.ResponseWriter, fn string, _ url.Values) bool {
	var names []string
	for d := range s.st.Zones {
		names = append(names, d)
	}
	sort.Strings(names)
	out := []map[string]any{}
	for _, d := range names {
		out = append(out, map[string]any{"domain": d, "zonefile": d + ".db"})
	}
	answer(w, fn, map[string]any{"zone": out}, "OK", "")
	return false
}

func (s *Server) zoneArg(w http.ResponseWriter, fn string, args url.Values, names ...string) (string, []*Record, bool) {
	d, ok := need(w, fn, args, names...)
	if !ok {
		return "", nil, false
	}
	recs, ok := s.st.Zones[strings.ToLower(strings.TrimSuffix(d, "."))]
	if !ok {
		refuse(w, fn, fmt.Sprintf("The zone “%s” does not exist.", d))
		return "", nil, false
	}
	return strings.ToLower(strings.TrimSuffix(d, ".")), recs, true
}

func (s *Server) parseDNSZone(w http.ResponseWriter, fn string, args url.Values) bool {
	_, recs, ok := s.zoneArg(w, fn, args, "zone")
	if !ok {
		return false
	}
	out := []map[string]any{}
	for _, r := range recs {
		data := make([]string, len(r.Data))
		for i, d := range r.Data {
			data[i] = b64(d)
		}
		out = append(out, map[string]any{"line_index": r.Line - 1, "type": "record", "record_type": r.Type, "ttl": r.TTL,
			"dname_b64": b64(r.Name), "data_b64": data})
	}
	answer(w, fn, map[string]any{"payload": out}, "OK", "")
	return false
}

func (s *Server) bump(zone string) {
	s.st.Serials[zone]++
	for i, r := range s.st.Zones[zone] {
		r.Line = i + 1
		if r.Type == "SOA" && len(r.Data) > 2 {
			r.Data[2] = strconv.Itoa(s.st.Serials[zone])
		}
	}
}

func (s *Server) addzonerecord(w http.ResponseWriter, fn string, args url.Values) bool {
	zone, recs, ok := s.zoneArg(w, fn, args, "domain", "zone")
	if !ok {
		return false
	}
	name, ok := need(w, fn, args, "name")
	if !ok {
		return false
	}
	typ, ok := need(w, fn, args, "type")
	if !ok {
		return false
	}
	typ = strings.ToUpper(typ)
	if !strings.HasSuffix(name, ".") {
		if name == "@" || name == zone {
			name = zone
		} else if !strings.HasSuffix(name, zone) {
			name += "." + zone
		}
		name += "."
	}
	var data []string
	switch typ {
	case "A", "AAAA":
		addr := args.Get("address")
		ip := net.ParseIP(addr)
		if ip == nil || (typ == "A") != (ip.To4() != nil) {
			refuse(w, fn, fmt.Sprintf("“%s” is not a valid %s record address.", addr, typ))
			return false
		}
		data = []string{addr}
	case "CNAME":
		data = []string{args.Get("cname")}
	case "MX":
		data = []string{args.Get("preference"), args.Get("exchange")}
	case "TXT":
		data = []string{args.Get("txtdata")}
	default:
		refuse(w, fn, fmt.Sprintf("The simulator does not model “%s” records.", typ))
		return false
	}
	for _, d := range data {
		if d == "" {
			refuse(w, fn, fmt.Sprintf("The %s record is missing its data.", typ))
			return false
		}
	}
	ttl := 14400
	if t := args.Get("ttl"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n <= 0 {
			refuse(w, fn, fmt.Sprintf("Invalid TTL “%s”.", t))
			return false
		}
		ttl = n
	}
	s.st.Zones[zone] = append(recs, &Record{Name: name, Type: typ, TTL: ttl, Data: data})
	s.bump(zone)
	answer(w, fn, nil, "Bind reloading on "+s.st.Hostname+" using rndc zone: ["+zone+"]\n", "")
	return true
}

func (s *Server) removezonerecord(w http.ResponseWriter, fn string, args url.Values) bool {
	zone, recs, ok := s.zoneArg(w, fn, args, "zone")
	if !ok {
		return false
	}
	ls, ok := need(w, fn, args, "line")
	if !ok {
		return false
	}
	line, err := strconv.Atoi(ls)
	if err != nil || line < 1 || line > len(recs) {
		refuse(w, fn, fmt.Sprintf("There is no record on line “%s” of the zone “%s”.", ls, zone))
		return false
	}
	if sn := args.Get("serialnum"); sn != "" && sn != strconv.Itoa(s.st.Serials[zone]) {
		refuse(w, fn, fmt.Sprintf("The zone's serial number is %d, not %s: it changed since you read it.", s.st.Serials[zone], sn))
		return false
	}
	if recs[line-1].Type == "SOA" {
		refuse(w, fn, "The SOA record cannot be removed.")
		return false
	}
	s.st.Zones[zone] = append(recs[:line-1], recs[line:]...)
	s.bump(zone)
	answer(w, fn, nil, "Bind reloading on "+s.st.Hostname+" using rndc zone: ["+zone+"]\n", "")
	return true
}

// massEditDNSZone is mass_edit_dns_zone: edits, removals and additions in
// one call, refused whole unless serial is the zone's serial now (the
// reference: "If this value does not match the zone's current state, the
// request fails"). Line indexes (0-based) name lines of the zone as it is
// before the call; the records after a removed one move up a line, and
// the serial goes up by one.
func (s *Server) massEditDNSZone(w http.ResponseWriter, fn string, args url.Values) bool {
	zone, recs, ok := s.zoneArg(w, fn, args, "zone")
	if !ok {
		return false
	}
	sn, ok := need(w, fn, args, "serial")
	if !ok {
		return false
	}
	serial, err := strconv.Atoi(sn)
	if err != nil || serial < 0 {
		refuse(w, fn, fmt.Sprintf("The “serial” parameter must be a nonnegative integer, not “%s”.", sn))
		return false
	}
	if serial != s.st.Serials[zone] {
		// WHM's words when the zone has changed since it was read.
		refuse(w, fn, fmt.Sprintf("The given serial number (%d) does not match the DNS zone’s serial number (%d). Refresh your view of the DNS zone, then resubmit.", serial, s.st.Serials[zone]))
		return false
	}
	index := func(raw string) (int, bool) {
		i, err := strconv.Atoi(raw)
		if err != nil || i < 0 || i >= len(recs) {
			refuse(w, fn, fmt.Sprintf("The zone “%s” has no record at line index “%s”.", zone, raw))
			return 0, false
		}
		if recs[i].Type == "SOA" {
			refuse(w, fn, "The SOA record cannot be edited or removed with this function.")
			return 0, false
		}
		return i, true
	}
	type change struct {
		LineIndex  *int     `json:"line_index"`
		Dname      string   `json:"dname"`
		TTL        int      `json:"ttl"`
		RecordType string   `json:"record_type"`
		Data       []string `json:"data"`
	}
	record := func(raw string, edit bool) (*Record, int, bool) {
		var c change
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			refuse(w, fn, fmt.Sprintf("The record “%s” is not valid JSON: %v", raw, err))
			return nil, 0, false
		}
		i := -1
		if edit {
			if c.LineIndex == nil {
				refuse(w, fn, "An edited record needs its “line_index”.")
				return nil, 0, false
			}
			if i, ok = index(strconv.Itoa(*c.LineIndex)); !ok {
				return nil, 0, false
			}
		}
		typ := strings.ToUpper(c.RecordType)
		if c.Dname == "" || typ == "" || len(c.Data) == 0 || c.TTL <= 0 {
			refuse(w, fn, "A record needs “dname”, “ttl”, “record_type” and “data”.")
			return nil, 0, false
		}
		return &Record{Name: absName(c.Dname, zone), Type: typ, TTL: c.TTL, Data: c.Data}, i, true
	}
	// Everything is checked before anything changes: one bad item
	// refuses the call whole.
	next := append([]*Record(nil), recs...)
	for _, raw := range args["edit"] {
		r, i, ok := record(raw, true)
		if !ok {
			return false
		}
		next[i] = r
	}
	gone := map[int]bool{}
	for _, raw := range args["remove"] {
		i, ok := index(raw)
		if !ok {
			return false
		}
		gone[i] = true
	}
	var added []*Record
	for _, raw := range args["add"] {
		r, _, ok := record(raw, false)
		if !ok {
			return false
		}
		added = append(added, r)
	}
	var out []*Record
	for i, r := range next {
		if !gone[i] {
			out = append(out, r)
		}
	}
	s.st.Zones[zone] = append(out, added...)
	s.bump(zone)
	answer(w, fn, map[string]any{"new_serial": s.st.Serials[zone]}, "OK", "")
	return true
}

// absName is a record name as the zone file holds it: relative names
// ("www", "@") completed with the zone, and a final dot.
func absName(name, zone string) string {
	if strings.HasSuffix(name, ".") {
		return name
	}
	if name == "@" || name == zone {
		return zone + "."
	}
	if strings.HasSuffix(name, "."+zone) {
		return name + "."
	}
	return name + "." + zone + "."
}

func (s *Server) resetzone(w http.ResponseWriter, fn string, args url.Values) bool {
	zone, _, ok := s.zoneArg(w, fn, args, "domain", "zone")
	if !ok {
		return false
	}
	ip := "203.0.113.21"
	if a := s.accountByDomain(zone); a != nil {
		ip = a.IP
	}
	s.st.Zones[zone] = defaultZone(zone, ip, s.st.Hostname)
	s.bump(zone)
	answer(w, fn, nil, "OK", "")
	return true
}

func (s *Server) killdns(w http.ResponseWriter, fn string, args url.Values) bool {
	zone, _, ok := s.zoneArg(w, fn, args, "domain")
	if !ok {
		return false
	}
	delete(s.st.Zones, zone)
	delete(s.st.Serials, zone)
	answer(w, fn, nil, "Zones Removed", zone+" => deleted from "+s.st.Hostname+".")
	return true
}

func (s *Server) cphulkStatus(w http.ResponseWriter, fn string, _ url.Values) bool {
	answer(w, fn, map[string]any{"is_enabled": 1, "service": "cPHulk"}, "OK", "")
	return false
}

func (s *Server) getCphulkBrutes(w http.ResponseWriter, fn string, _ url.Values) bool {
	out := []map[string]any{}
	for _, b := range s.st.Brutes {
		left := 0
		if t, err := time.Parse(time.RFC3339, b.ExpTime); err == nil {
			left = max(0, int(t.Sub(s.now()).Minutes()))
		}
		out = append(out, map[string]any{"ip": b.IP, "logintime": b.LoginTime, "exptime": b.ExpTime, "notes": b.Notes, "timeleft": left})
	}
	answer(w, fn, map[string]any{"brutes": out}, "OK", "")
	return false
}

func (s *Server) hulkList(w http.ResponseWriter, fn string, args url.Values) (string, map[string]string, bool) {
	name, ok := need(w, fn, args, "list_name")
	if !ok {
		return "", nil, false
	}
	switch name {
	case "white":
		return name, s.st.White, true
	case "black":
		return name, s.st.Black, true
	}
	refuse(w, fn, fmt.Sprintf("Invalid list name “%s”: use “white” or “black”.", name))
	return "", nil, false
}

func (s *Server) readCphulkRecords(w http.ResponseWriter, fn string, args url.Values) bool {
	name, l, ok := s.hulkList(w, fn, args)
	if !ok {
		return false
	}
	answer(w, fn, map[string]any{"list_name": name, "ips_in_list": l, "requester_ip": "203.0.113.5", "requester_ip_is_whitelisted": b2i(s.st.White["203.0.113.5"] != "")}, "OK", "")
	return false
}

func validIPOrRange(v string) bool {
	if net.ParseIP(v) != nil {
		return true
	}
	_, _, err := net.ParseCIDR(v)
	return err == nil
}

func (s *Server) createCphulkRecord(w http.ResponseWriter, fn string, args url.Values) bool {
	name, l, ok := s.hulkList(w, fn, args)
	if !ok {
		return false
	}
	ips := list(args, "ip")
	if len(ips) == 0 {
		refuse(w, fn, "The “ip” parameter is required.")
		return false
	}
	added, failed := []string{}, map[string]string{}
	removed := 0
	for _, ip := range ips {
		if !validIPOrRange(ip) {
			failed[ip] = fmt.Sprintf("Invalid IP address or range: %q", ip)
			continue
		}
		l[ip] = args.Get("comment")
		added = append(added, ip)
		if name == "white" {
			for i := 0; i < len(s.st.Brutes); i++ {
				if s.st.Brutes[i].IP == ip {
					s.st.Brutes = append(s.st.Brutes[:i], s.st.Brutes[i+1:]...)
					removed++
					i--
				}
			}
		}
	}
	answer(w, fn, map[string]any{"list_name": name, "ips_added": added, "ips_failed": failed, "comment": args.Get("comment"),
		"ip_blocks_removed": removed, "iptable_bans_removed": 0, "requester_ip": "203.0.113.5"}, "OK", "")
	return len(added) > 0
}

func (s *Server) deleteCphulkRecord(w http.ResponseWriter, fn string, args url.Values) bool {
	name, l, ok := s.hulkList(w, fn, args)
	if !ok {
		return false
	}
	ips := list(args, "ip")
	if len(ips) == 0 {
		refuse(w, fn, "The “ip” parameter is required.")
		return false
	}
	removed, failed := []string{}, map[string]string{}
	for _, ip := range ips {
		if _, ok := l[ip]; !ok {
			failed[ip] = "The IP address is not on the " + name + " list."
			continue
		}
		delete(l, ip)
		removed = append(removed, ip)
	}
	answer(w, fn, map[string]any{"list_name": name, "ips_removed": removed, "ips_failed": failed, "requester_ip": "203.0.113.5"}, "OK", "")
	return len(removed) > 0
}

func (s *Server) flushForIPs(w http.ResponseWriter, fn string, args url.Values) bool {
	ips := list(args, "ip")
	if len(ips) == 0 {
		refuse(w, fn, "The “ip” parameter is required.")
		return false
	}
	want := map[string]bool{}
	for _, ip := range ips {
		if net.ParseIP(ip) == nil {
			refuse(w, fn, fmt.Sprintf("Invalid IP address: “%s”.", ip))
			return false
		}
		want[ip] = true
	}
	kept := s.st.Brutes[:0]
	n := 0
	for _, b := range s.st.Brutes {
		if want[b.IP] {
			n++
			continue
		}
		kept = append(kept, b)
	}
	s.st.Brutes = kept
	answer(w, fn, map[string]any{"records_removed": n, "iptable_bans_removed": n}, "OK", "")
	return n > 0
}

func (s *Server) flushAll(w http.ResponseWriter, fn string, _ url.Values) bool {
	n := len(s.st.Brutes)
	s.st.Brutes = nil
	answer(w, fn, map[string]any{"records_removed": n}, "OK", "")
	return true
}

func (s *Server) backupDateList(w http.ResponseWriter, fn string, _ url.Values) bool {
	var dates []string
	for d := range s.st.Backups {
		dates = append(dates, d)
	}
	sort.Strings(dates)
	answer(w, fn, map[string]any{"backup_set": dates}, "OK", "")
	return false
}

func (s *Server) backupUserList(w http.ResponseWriter, fn string, args url.Values) bool {
	p, ok := need(w, fn, args, "restore_point")
	if !ok {
		return false
	}
	users, ok := s.st.Backups[p]
	if !ok {
		refuse(w, fn, fmt.Sprintf("There is no backup for “%s”.", p))
		return false
	}
	out := []map[string]any{}
	for _, u := range users {
		status := "active"
		if s.account(u) == nil {
			status = "inactive"
		}
		out = append(out, map[string]any{"username": u, "status": status})
	}
	answer(w, fn, map[string]any{"user": out}, "OK", "")
	return false
}

func jobJSON(j RestoreJob) map[string]any {
	return map[string]any{"user": j.User, "restore_point": j.RestorePoint, "options": j.Options}
}

func jobsJSON(js []RestoreJob) []map[string]any {
	out := []map[string]any{}
	for _, j := range js {
		out = append(out, jobJSON(j))
	}
	return out
}

func (s *Server) restoreQueueState(w http.ResponseWriter, fn string, _ url.Values) bool {
	answer(w, fn, map[string]any{"pending": jobsJSON(s.st.Pending), "active": jobsJSON(s.st.Active), "completed": jobsJSON(s.st.Completed), "is_active": b2i(len(s.st.Active) > 0)}, "OK", "")
	return false
}

func (s *Server) restoreList(get func(*State) []RestoreJob) handler {
	return func(w http.ResponseWriter, fn string, _ url.Values) bool {
		answer(w, fn, map[string]any{"restore_job": jobsJSON(get(s.st))}, "OK", "")
		return false
	}
}

func (s *Server) restoreCompleted(w http.ResponseWriter, fn string, _ url.Values) bool {
	out := []map[string]any{}
	for _, j := range s.st.Completed {
		out = append(out, map[string]any{"restore_job": jobJSON(j), "status_info": map[string]any{"result": 1, "status": 1, "statusmsg": "success", "log": "success"}})
	}
	answer(w, fn, map[string]any{"restore_job": out}, "OK", "")
	return false
}

func (s *Server) restoreAdd(w http.ResponseWriter, fn string, args url.Values) bool {
	user, ok := need(w, fn, args, "user")
	if !ok {
		return false
	}
	point, ok := need(w, fn, args, "restore_point")
	if !ok {
		return false
	}
	users, ok := s.st.Backups[point]
	if !ok {
		refuse(w, fn, fmt.Sprintf("There is no backup for “%s”.", point))
		return false
	}
	found := false
	for _, u := range users {
		found = found || u == user
	}
	if !found {
		refuse(w, fn, fmt.Sprintf("The backup of “%s” holds no account “%s”.", point, user))
		return false
	}
	for _, j := range s.st.Pending {
		if j.User == user {
			refuse(w, fn, fmt.Sprintf("A restoration of “%s” is already queued.", user))
			return false
		}
	}
	opts := map[string]int{}
	for _, k := range []string{"give_ip", "mail_config", "mysql", "subdomains"} {
		opts[k] = b2i(args.Get(k) == "1")
	}
	s.st.Pending = append(s.st.Pending, RestoreJob{User: user, RestorePoint: point, Options: opts})
	answer(w, fn, map[string]any{"queue_id": fmt.Sprintf("q%x", s.now().UnixNano()&0xffffffff)}, "OK", "")
	return true
}

func (s *Server) restoreClear(w http.ResponseWriter, fn string, args url.Values) bool {
	user, ok := need(w, fn, args, "user")
	if !ok {
		return false
	}
	for i, j := range s.st.Pending {
		if j.User == user {
			s.st.Pending = append(s.st.Pending[:i], s.st.Pending[i+1:]...)
			answer(w, fn, nil, "OK", "")
			return true
		}
	}
	refuse(w, fn, fmt.Sprintf("No pending restoration for “%s”.", user))
	return false
}

func (s *Server) restoreClearAll(w http.ResponseWriter, fn string, _ url.Values) bool {
	s.st.Pending = nil
	answer(w, fn, nil, "OK", "")
	return true
}

// restoreActivate runs the queue; the simulator finishes every job at once
// and brings back accounts that were removed.
func (s *Server) restoreActivate(w http.ResponseWriter, fn string, _ url.Values) bool {
	for _, j := range s.st.Pending {
		if s.account(j.User) == nil {
			domain := j.User + ".example"
			s.st.Accounts = append(s.st.Accounts, &Account{User: j.User, Domain: domain, Plan: "default", Owner: "root", IP: "203.0.113.21", StartDate: s.now().Unix()})
			if s.st.Zones[domain] == nil {
				s.st.Zones[domain] = defaultZone(domain, "203.0.113.21", s.st.Hostname)
				s.st.Serials[domain] = 2026112701
			}
		}
	}
	s.st.Completed = append(s.st.Completed, s.st.Pending...)
	s.st.Pending = nil
	answer(w, fn, nil, "Restore queue processing initiated", "")
	return true
}

func (s *Server) mailFlag(field func(*Account) *bool, to bool) handler {
	return func(w http.ResponseWriter, fn string, args url.Values) bool {
		a, ok := s.userArg(w, fn, args)
		if !ok {
			return false
		}
		*field(a) = to
		answer(w, fn, nil, "OK", "")
		return true
	}
}

func (s *Server) listPopsFor(w http.ResponseWriter, fn string, args url.Values) bool {
	a, ok := s.userArg(w, fn, args)
	if !ok {
		return false
	}
	pops := append([]string{}, a.Mailboxes...)
	answer(w, fn, map[string]any{"pops": pops}, "OK", "")
	return false
}

func (s *Server) fetchsslinfo(w http.ResponseWriter, fn string, args url.Values) bool {
	d := args.Get("domain")
	if d == "" {
		refuse(w, fn, "You must specify a domain or certificate.")
		return false
	}
	if s.accountByDomain(d) == nil {
		refuse(w, fn, fmt.Sprintf("No certificate is installed for “%s”.", d))
		return false
	}
	answer(w, fn, map[string]any{"domain": d, "crt": testCertificate, "key": TestPrivateKey, "cab": testCertificate, "ip": "203.0.113.21", "user": s.accountByDomain(d).User}, "OK", "")
	return false
}

func (s *Server) problems(w http.ResponseWriter, fn string, domains []string) {
	out := []map[string]any{}
	for _, d := range domains {
		if p, ok := s.st.SSLProbs[d]; ok {
			t := s.now().UTC().Add(-6 * time.Hour).Format(time.RFC3339)
			out = append(out, map[string]any{"domain": d, "problem": p, "time": t, "log": t})
		}
	}
	answer(w, fn, map[string]any{"problems_by_domain": out}, "OK", "")
}

func (s *Server) autosslForDomain(w http.ResponseWriter, fn string, args url.Values) bool {
	d, ok := need(w, fn, args, "domain")
	if !ok {
		return false
	}
	s.problems(w, fn, []string{d})
	return false
}

func (s *Server) autosslForUser(w http.ResponseWriter, fn string, args url.Values) bool {
	a, ok := s.userArg(w, fn, args, "username")
	if !ok {
		return false
	}
	var ds []string
	for d := range s.st.SSLProbs {
		if d == a.Domain || strings.HasSuffix(d, "."+a.Domain) {
			ds = append(ds, d)
		}
	}
	sort.Strings(ds)
	s.problems(w, fn, ds)
	return false
}

func (s *Server) autosslCheck(w http.ResponseWriter, fn string, args url.Values) bool {
	if _, ok := s.userArg(w, fn, args, "username"); !ok {
		return false
	}
	answer(w, fn, map[string]any{"pid": 40000 + len(s.calls.Calls())}, "OK", "")
	return false
}

func (s *Server) servicestatus(w http.ResponseWriter, fn string, args url.Values) bool {
	want := args.Get("service")
	out := []map[string]any{}
	for _, sv := range s.st.Services {
		if want != "" && sv.Name != want {
			continue
		}
		out = append(out, map[string]any{"name": sv.Name, "display_name": sv.DisplayName, "enabled": 1, "installed": 1, "monitored": 1, "running": b2i(sv.Running)})
	}
	if want != "" && len(out) == 0 {
		refuse(w, fn, fmt.Sprintf("Unknown service “%s”.", want))
		return false
	}
	answer(w, fn, map[string]any{"service": out}, "OK", "")
	return false
}

func (s *Server) restartservice(w http.ResponseWriter, fn string, args url.Values) bool {
	name, ok := need(w, fn, args, "service")
	if !ok {
		return false
	}
	for _, sv := range s.st.Services {
		if sv.Name == name {
			sv.Running = true
			sv.Restarts++
			answer(w, fn, map[string]any{"service": name, "output": "Waiting for " + name + " to restart...finished.\n" + name + " started ok\n"}, "OK", "")
			return true
		}
	}
	refuse(w, fn, fmt.Sprintf("Unknown service “%s”.", name))
	return false
}
