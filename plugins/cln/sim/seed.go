package sim

// seed fills a new simulator with a small, plausible account: a few keys
// of each family with servers, IP licences (one held by another customer),
// a server group, a backup, AccelerateWP usage and one feature.
func seed(st *State) {
	user := "test-user1"
	st.NextID = 100
	st.CLKeys = []*CLKey{
		{Key: "abc123", ProductType: "cl", UsageLimit: 2, Description: "shared hosting cluster"},
		{Key: "def456", ProductType: "clp", UsageLimit: 3, Description: "pro nodes"},
	}
	st.CLServers = []*CLServer{
		{ID: 1, Key: "abc123", IP: "203.0.113.10", Hostname: "web01", ProductType: "CL"},
		{ID: 2, Key: "def456", IP: "203.0.113.11", Hostname: "web02", ProductType: "CLP"},
	}
	st.SubServers = []SubServer{{SubAccountLogin: "sub1", SubAccountEmail: "sub1@example.com", ServerID: 1, ServerKey: "abc123", Version: 8, IP: "203.0.113.10"}}
	st.ELSKeys = []*ELSKey{{Key: "CELS-yUDxBd5ethmGO5d3hnAZEau0", ProductCode: "CELS", UsageLimit: "2", Description: "legacy centos 6"}}
	st.ELSServers = []*ELSServer{
		{ID: "12345", Key: "CELS-yUDxBd5ethmGO5d3hnAZEau0", IP: "198.51.100.5", Hostname: "legacy1", LastCheckin: "2022-09-05 14:22:23.781372", Product: "CELS"},
	}
	st.IMKeys = []*IMKey{
		{Key: "IM1SOMENONSENCETEXT", Limit: "2", Code: "360_1", Note: "single user"},
		{Key: "IMUNOTHERKEY", Limit: "42", Code: "360_30"},
	}
	st.IMServers = []*IMServer{{ID: "SSERVER_ID_1", IP: "203.0.113.20", Key: "IM1SOMENONSENCETEXT", LastCheckin: "2023-04-30T11:26-0400"}}
	st.IPL = []*IPLicense{
		{IP: "203.0.113.10", Type: 1, Registered: true, Created: "2014-04-30T11:26-0400", ServerInfo: "cloudlinux-release-8 (4.18.0-372.lve.el8)", LastCheckin: "2026-11-26T09:12-0000"},
		{IP: "198.51.100.20", Type: 41, Created: "2021-02-11T08:00-0000", Owner: "another-customer"},
	}
	st.KCKeys = []*KCKey{{Key: "WsTs821nSAtiastD", Enabled: true, Created: "2014-04-30T11:26-0400", Limit: 2, Note: "Some custom key note"}}
	st.KCServers = []*KCServer{{ServerID: "s096slnkaAtoiAsd", Key: "WsTs821nSAtiastD", IP: "203.0.113.30", Created: "2014-04-30T11:26-0400", LastCheckin: "2026-11-26T10:00-0000", UpToDate: true}}
	st.Groups = []*Group{{Name: "web", Description: "web servers", Servers: []string{"SSERVER_ID_1"}}}
	st.Backups = []*Backup{{ServerID: "SSERVER_ID_1", Size: 10, BackupID: 23, Datacenter: "EU2"}}
	st.AWP = map[string][]AWPEntry{"2023-12": {
		{Product: "AWP_PREMIUM", PrimaryDomain: "example1.com", Username: &user},
		{Product: "AWP_CDN", PrimaryDomain: "example2.com", CDNLimitType: "50 GB"},
	}}
	st.Features = map[string]string{"4600": "DISABLED"}
	st.Monitoring = map[string]string{"MonitoringKey0001": "WsTs821nSAtiastD"}
}
