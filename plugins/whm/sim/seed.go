package sim

import "strings"

// TestPrivateKey is the private key fetchsslinfo returns for the seeded
// domains. It is not a usable key, but has a private key's shape, so
// redaction tests can look for it.
const TestPrivateKey = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDSIMULATORKEY0\nc2ltdWxhdG9yLW9ubHktbm90LWEtcmVhbC1rZXktZG8tbm90LXVzZS1pdC1hbnl3\n-----END PRIVATE KEY-----"

// testCertificate is a real self-signed certificate for shop.example and
// its www and mail names (the key that signed it is not kept anywhere).
const testCertificate = "-----BEGIN CERTIFICATE-----\nMIIBwjCCAWmgAwIBAgIUedGWmqlcCVCCFZTZTFXer0oxd6QwCgYIKoZIzj0EAwIw\nFzEVMBMGA1UEAwwMc2hvcC5leGFtcGxlMB4XDTI2MTEyNzEzMzk0OFoXDTI4MDEw\nMTEzMzk0OFowFzEVMBMGA1UEAwwMc2hvcC5leGFtcGxlMFkwEwYHKoZIzj0CAQYI\nKoZIzj0DAQcDQgAE7petNm+oVMKuJxJgOJDgLFQWzP4A3WAFacVePvP6kOngm1G2\nDMgTVMo+tG6dMQ+1pWSEkxUNrjfswclCmqIc0KOBkjCBjzAdBgNVHQ4EFgQUquKo\ntyUiDxd61MdONnhdKtzoMrAwHwYDVR0jBBgwFoAUquKotyUiDxd61MdONnhdKtzo\nMrAwDwYDVR0TAQH/BAUwAwEB/zA8BgNVHREENTAzggxzaG9wLmV4YW1wbGWCEHd3\ndy5zaG9wLmV4YW1wbGWCEW1haWwuc2hvcC5leGFtcGxlMAoGCCqGSM49BAMCA0cA\nMEQCIEv4v2NlDPwcOCqNcJUnzDHK3S6nWmr3flA/boERdE9KAiBvZWa91C0k38gT\n33QYYeLUs7wlNHWuhHW2EMmjyeJ+KA==\n-----END CERTIFICATE-----"

// seed is a small, plausible server: three customer accounts (one
// suspended for nonpayment), a reseller, three plans, their DNS zones, a
// cPHulk block and lists, two nights of backups, the usual services and
// one AutoSSL problem.
func seed(hostname string) *State {
	if hostname == "" {
		hostname = "server.example.net"
	}
	st := &State{
		Hostname: hostname,
		Packages: []*Package{
			{Name: "default", QuotaMB: 0, BWMB: 0, MaxPOP: "unlimited", MaxSQL: "unlimited"},
			{Name: "basic", QuotaMB: 5120, BWMB: 51200, MaxPOP: "10", MaxSQL: "5"},
			{Name: "pro", QuotaMB: 20480, BWMB: 204800, MaxPOP: "unlimited", MaxSQL: "unlimited"},
		},
		Accounts: []*Account{
			{User: "demo1", Domain: "demo1.example", Plan: "basic", Email: "owner@demo1.example", IP: "203.0.113.21", Owner: "root",
				DiskUsedMB: 812, QuotaMB: 5120, BWLimitMB: 51200, BWUsedBytes: 1_824_000_000, StartDate: 1700000000,
				Mailboxes: []string{"info@demo1.example", "sales@demo1.example"}},
			{User: "shopco", Domain: "shop.example", Plan: "pro", Email: "it@shop.example", IP: "203.0.113.22", Owner: "resell1",
				DiskUsedMB: 14_230, QuotaMB: 20480, BWLimitMB: 204800, BWUsedBytes: 96_500_000_000, StartDate: 1710000000,
				Mailboxes: []string{"orders@shop.example"}},
			{User: "blogger", Domain: "blog.example", Plan: "basic", Email: "me@blog.example", IP: "203.0.113.21", Owner: "root",
				DiskUsedMB: 120, QuotaMB: 5120, BWLimitMB: 51200, StartDate: 1720000000,
				Suspended: true, SuspendReason: "Suspended for nonpayment.", SuspendTime: 1763900000},
			{User: "resell1", Domain: "reseller.example", Plan: "pro", Email: "ops@reseller.example", IP: "203.0.113.20", Owner: "root",
				DiskUsedMB: 2_048, QuotaMB: 20480, BWLimitMB: 204800, StartDate: 1690000000},
		},
		Resellers: []string{"resell1"},
		Zones:     map[string][]*Record{},
		Serials:   map[string]int{},
		White:     map[string]string{"203.0.113.5": "support desk office"},
		Black:     map[string]string{"198.51.100.66": "credential stuffing, ticket 4411"},
		Brutes: []Brute{
			{IP: "192.0.2.45", LoginTime: "2026-11-27T08:10:00Z", ExpTime: "2026-11-27T20:10:00Z", Notes: "Too many failed logins for demo1"},
			{IP: "192.0.2.77", LoginTime: "2026-11-27T09:02:00Z", ExpTime: "2026-11-27T21:02:00Z", Notes: "Too many failed logins for root"},
		},
		Backups: map[string][]string{
			"2026-11-25": {"demo1", "shopco", "blogger", "resell1"},
			"2026-11-26": {"demo1", "shopco", "resell1"},
		},
		Services: []*Service{
			{Name: "httpd", DisplayName: "Apache Web Server", Running: true},
			{Name: "exim", DisplayName: "Exim Mail Server", Running: true},
			{Name: "dovecot", DisplayName: "IMAP and POP3 Server", Running: true},
			{Name: "mysql", DisplayName: "MySQL Server", Running: true},
			{Name: "named", DisplayName: "DNS Server", Running: true},
			{Name: "cpsrvd", DisplayName: "cPanel Daemon", Running: true},
			{Name: "cphulkd", DisplayName: "cPHulk Daemon", Running: true},
			{Name: "crond", DisplayName: "Cron Daemon", Running: true},
			{Name: "sshd", DisplayName: "SSH Daemon", Running: true},
			{Name: "ftpd", DisplayName: "FTP Server", Running: false},
		},
		SSLProbs: map[string]string{
			"blog.example":      "The domain does not resolve to any IPv4 addresses on the internet.",
			"mail.shop.example": "DNS DCV: The domain resolves to a different server.",
		},
		Load: [3]float64{0.42, 0.61, 0.58},
	}
	for _, a := range st.Accounts {
		st.Zones[a.Domain] = defaultZone(a.Domain, a.IP, hostname)
		st.Serials[a.Domain] = 2026112701
	}
	return st
}

// defaultZone is the zone WHM writes for a new account.
func defaultZone(domain, ip, hostname string) []*Record {
	ns := "ns1." + strings.TrimPrefix(hostname, "server.")
	recs := []*Record{
		{Name: domain + ".", Type: "SOA", TTL: 86400, Data: []string{ns + ".", "hostmaster." + domain + ".", "2026112701", "3600", "1800", "1209600", "86400"}},
		{Name: domain + ".", Type: "NS", TTL: 86400, Data: []string{ns + "."}},
		{Name: domain + ".", Type: "A", TTL: 14400, Data: []string{ip}},
		{Name: "www." + domain + ".", Type: "CNAME", TTL: 14400, Data: []string{domain + "."}},
		{Name: "mail." + domain + ".", Type: "CNAME", TTL: 14400, Data: []string{domain + "."}},
		{Name: domain + ".", Type: "MX", TTL: 14400, Data: []string{"0", domain + "."}},
		{Name: domain + ".", Type: "TXT", TTL: 14400, Data: []string{"v=spf1 +a +mx ~all"}},
	}
	for i, r := range recs {
		r.Line = i + 1
	}
	return recs
}
