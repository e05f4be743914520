package client

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type sample struct {
	body      string
	irregular string // why the verbatim sample is not valid
	envelope  bool   // the sample is a whole answer, not just data
}

// loadSamples reads testdata/seed-samples.txt: "-- name -- note" lines
// start sections.
func loadSamples(t *testing.T) map[string]sample {
	return loadSamplesFrom(t, "testdata/seed-samples.txt")
}

// loadSamplesFrom reads a testdata file in the same format.
func loadSamplesFrom(t *testing.T, file string) map[string]sample {
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	out := map[string]sample{}
	var name string
	var cur sample
	var lines []string
	flush := func() {
		if name != "" {
			cur.body = strings.Join(lines, "\n")
			out[name] = cur
		}
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "-- ") {
			flush()
			rest := strings.TrimPrefix(line, "-- ")
			n, note, _ := strings.Cut(rest, " --")
			name, cur, lines = n, sample{}, nil
			note = strings.TrimSpace(note)
			if strings.HasPrefix(note, "irregular:") {
				cur.irregular = strings.TrimSpace(strings.TrimPrefix(note, "irregular:"))
			}
			cur.envelope = note == "envelope"
			continue
		}
		if name != "" {
			lines = append(lines, line)
		}
	}
	flush()
	return out
}

// serve answers every request with body: wrapped in the envelope unless
// it is one already, or bare for the v2 endpoints.
func serve(t *testing.T, body string, wrap bool) *Client {
	if wrap {
		body = `{"success": true, "message": "", "data": ` + body + `}`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{BaseURL: srv.URL + "/api", Login: "customer_login", Secret: "my_secret_key"})
	require.NoError(t, err)
	return c
}

func TestSeedSamplesDecodeThroughTheClient(t *testing.T) {
	samples := loadSamples(t)
	ctx := context.Background()
	type check func(t *testing.T, c *Client)
	// wrap: true for "Success response data" samples the API sends inside
	// its envelope; v2 samples are sent bare.
	cases := map[string]struct {
		wrap bool
		run  check
	}{
		"status.json": {true, func(t *testing.T, c *Client) {
			s, err := c.Status(ctx)
			require.NoError(t, err)
			assert.True(t, s.IPServerReg && s.XMLRPC && s.RHNQueueFull)
		}},
		"cl.keys.create": {false, func(t *testing.T, c *Client) {
			k, err := c.CLKeyCreate(ctx, "CL", 2, "optional note")
			require.NoError(t, err)
			assert.Equal(t, CLKey{Key: "abc123", ProductType: "cl", UsageLimit: 2, Description: "optional note"}, k)
		}},
		"cl.keys.update": {false, func(t *testing.T, c *Client) {
			k, err := c.CLKeyUpdate(ctx, "abc123", 4, "")
			require.NoError(t, err)
			assert.Equal(t, FlexInt(4), k.UsageLimit)
		}},
		"cl.keys.remove": {false, func(t *testing.T, c *Client) {
			k, err := c.CLKeyRemove(ctx, "abc123")
			require.NoError(t, err)
			assert.Equal(t, "abc123", k)
		}},
		"cl.keys.list": {false, func(t *testing.T, c *Client) {
			ks, err := c.CLKeyList(ctx, "CL")
			require.NoError(t, err)
			assert.Len(t, ks, 2)
		}},
		"cl.servers.list": {false, func(t *testing.T, c *Client) {
			ss, err := c.CLServerList(ctx, "CL")
			require.NoError(t, err)
			assert.Equal(t, "server2", ss[1].Hostname)
		}},
		"cl.servers.remove": {false, func(t *testing.T, c *Client) {
			s, err := c.CLServerRemove(ctx, 1)
			require.NoError(t, err)
			assert.Equal(t, FlexInt(1), s.ID)
		}},
		"cl.subaccount.servers": {false, func(t *testing.T, c *Client) {
			ss, err := c.CLSubAccountServers(ctx)
			require.NoError(t, err)
			assert.Equal(t, "sub2", ss[1].SubAccountLogin)
			assert.Equal(t, FlexInt(9), ss[1].Version)
		}},
		"els.key.create": {true, func(t *testing.T, c *Client) {
			k, err := c.ELSKeyCreate(ctx, "CELS", 2, "123")
			require.NoError(t, err)
			assert.Equal(t, ELSKey{Key: "CELS-yUDxBd5ethmGO5d3hnAZEau0", ProductCode: "CELS", UsageLimit: 2, Description: "123"}, k)
		}},
		"els.key.update": {true, func(t *testing.T, c *Client) {
			k, err := c.ELSKeyUpdate(ctx, "CELS-x", 4, "321")
			require.NoError(t, err)
			assert.Equal(t, FlexInt(4), k.UsageLimit)
		}},
		"els.key.remove": {true, func(t *testing.T, c *Client) {
			s, err := c.ELSKeyRemove(ctx, "CELS-x")
			require.NoError(t, err)
			assert.Len(t, s, 1)
		}},
		"els.key.list.older": {true, func(t *testing.T, c *Client) {
			ks, err := c.ELSKeyList(ctx, "CELS")
			require.NoError(t, err)
			assert.Equal(t, FlexString("123"), ks[0].Description, "a numeric description is read as text")
			assert.Equal(t, FlexString(""), ks[1].Description, "null is empty")
		}},
		"els.srv.list": {true, func(t *testing.T, c *Client) {
			ss, err := c.ELSServerList(ctx, "CELS", "")
			require.NoError(t, err)
			assert.Equal(t, "2022-09-05 14:22:23.781372", ss[0].LastCheckin)
		}},
		"els.srv.list.older": {true, func(t *testing.T, c *Client) {
			ss, err := c.ELSServerList(ctx, "CELS", "")
			require.NoError(t, err)
			assert.Equal(t, FlexString("12346"), ss[1].ID)
		}},
		"els.srv.remove": {true, func(t *testing.T, c *Client) {
			s, err := c.ELSServerRemove(ctx, "12345")
			require.NoError(t, err)
			assert.Equal(t, "test", s.Hostname)
		}},
		"im.key.create": {true, func(t *testing.T, c *Client) {
			k, err := c.IMKeyCreate(ctx, "360_1", 0, "")
			require.NoError(t, err)
			assert.Equal(t, IMKey{Key: "IM1SOMENONSENCETEXT", Limit: 0, Code: "360_1"}, k)
		}},
		"im.key.update": {true, func(t *testing.T, c *Client) {
			limit := int64(2)
			k, err := c.IMKeyUpdate(ctx, "IM1SOMENONSENCETEXT", &limit, nil, nil)
			require.NoError(t, err)
			assert.Equal(t, FlexInt(1), k.Servers)
		}},
		"im.key.remove": {true, func(t *testing.T, c *Client) {
			s, err := c.IMKeyRemove(ctx, "IMKEYVALUE")
			require.NoError(t, err)
			assert.True(t, s.Listed)
			assert.Len(t, s.Items, 2)
		}},
		"im.key.list": {true, func(t *testing.T, c *Client) {
			ks, err := c.IMKeyList(ctx)
			require.NoError(t, err)
			assert.Equal(t, FlexInt(42), ks[1].Limit)
		}},
		"im.srv.list": {true, func(t *testing.T, c *Client) {
			ss, err := c.IMServerList(ctx, "IMKEYVALUE")
			require.NoError(t, err)
			assert.Equal(t, "SSERVER_IP_2", ss[1].IP)
		}},
		"im.srv.list.older": {true, func(t *testing.T, c *Client) {
			ss, err := c.IMServerList(ctx, "IMKEYVALUE")
			require.NoError(t, err)
			assert.Len(t, ss, 2)
		}},
		"im.srv.remove": {true, func(t *testing.T, c *Client) {
			s, err := c.IMServerRemove(ctx, "SSERVER_ID_1")
			require.NoError(t, err)
			assert.Equal(t, "IMKEYVALUE", s.Key)
		}},
		"im.srv.convert": {true, func(t *testing.T, c *Client) {
			s, err := c.IMServerConvert(ctx, "SSERVER_ID_1", "IMKEYVALUE")
			require.NoError(t, err)
			assert.Equal(t, "SSERVER_ID_1", s.ID)
		}},
		"ipl.availability": {true, func(t *testing.T, c *Client) {
			a, err := c.IPLAvailability(ctx, "1.1.1.1")
			require.NoError(t, err)
			assert.Equal(t, Availability{Available: []int{1, 41, 42, 43, 49}, Owned: []int{16}}, a)
		}},
		"ipl.check.1": {true, func(t *testing.T, c *Client) {
			types, err := c.IPLCheck(ctx, "1.1.1.1")
			require.NoError(t, err)
			assert.Equal(t, []int{1, 16}, types)
		}},
		"ipl.check.2": {true, func(t *testing.T, c *Client) {
			types, err := c.IPLCheck(ctx, "1.1.1.1")
			require.NoError(t, err)
			assert.Equal(t, []int{41}, types)
		}},
		"ipl.check.3": {true, func(t *testing.T, c *Client) {
			types, err := c.IPLCheck(ctx, "1.1.1.1")
			require.NoError(t, err)
			assert.Empty(t, types)
		}},
		"ipl.register": {true, func(t *testing.T, c *Client) {
			l, err := c.IPLRegister(ctx, "1.1.1.1", 16, nil)
			require.NoError(t, err)
			assert.Equal(t, IPLicense{IP: "1.1.1.1", Type: 16, Created: "2014-04-30T11:26-0400"}, l)
		}},
		"ipl.register.older": {true, func(t *testing.T, c *Client) {
			l, err := c.IPLRegister(ctx, "1.1.1.1", 16, nil)
			require.NoError(t, err)
			assert.Equal(t, 16, l.Type)
		}},
		"ipl.list": {true, func(t *testing.T, c *Client) {
			ls, err := c.IPLList(ctx)
			require.NoError(t, err)
			assert.Equal(t, "1.1.1.1", ls[0].IP)
		}},
		"ipl.server": {true, func(t *testing.T, c *Client) {
			ls, err := c.IPLServer(ctx, []string{"1.1.1.1"})
			require.NoError(t, err)
			assert.Equal(t, "cloudlinux-release-5 (2.6.18-294.26.1.el5.lve0.8.18)", ls[0].ServerInfo)
		}},
		"ipl.boolean": {true, func(t *testing.T, c *Client) {
			require.NoError(t, c.IPLConvert(ctx, "1.1.1.1", 41, 43))
			require.NoError(t, c.IPLRemove(ctx, "1.1.1.1", 16))
			require.NoError(t, c.IPLUpdate(ctx, "1.1.1.1", 16, true))
			require.NoError(t, c.KCKeyDelete(ctx, "WsTs821nSAtiastD"))
		}},
		"kcare.key.list": {true, func(t *testing.T, c *Client) {
			ks, err := c.KCKeyList(ctx)
			require.NoError(t, err)
			assert.Equal(t, KCKey{Key: "WsTs821nSAtiastD", Created: "2014-04-30T11:26-0400", Limit: 2, Note: "Some custom key note"}, ks[0])
		}},
		"kcare.key.servers": {true, func(t *testing.T, c *Client) {
			ss, err := c.KCKeyServers(ctx, "WsTs821nSAtiastD")
			require.NoError(t, err)
			assert.Equal(t, "s096slnkaAtoiAsd", ss[0].ServerID)
		}},
		"kcare.set_cidr": {true, func(t *testing.T, c *Client) {
			require.NoError(t, c.KCKeySetCIDR(ctx, "K", []string{"10.0.0.0/8"}))
		}},
		"kcare.srv.remove.found": {false, func(t *testing.T, c *Client) {
			_, err := c.KCServerRemove(ctx, "s096slnkaAtoiAsd")
			require.NoError(t, err)
		}},
		"kcare.srv.remove.notfound": {false, func(t *testing.T, c *Client) {
			_, err := c.KCServerRemove(ctx, "nope")
			require.ErrorIs(t, err, ErrNotFound, "success with null data is a failure")
			assert.Contains(t, err.Error(), "Server not found")
		}},
		"kcare.srv.remove.authfailed": {false, func(t *testing.T, c *Client) {
			_, err := c.KCServerRemove(ctx, "x")
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, "CLN: Authorization failed", ae.Error())
		}},
		"kcare.nagios": {false, func(t *testing.T, c *Client) {
			text, ok, err := c.KCNagios(ctx, "WsTs821nSAtiastD")
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, "KernelCare OK - all servers are up to date!", text)
		}},
		"group.create": {false, func(t *testing.T, c *Client) {
			g, err := c.GroupCreate(ctx, "NAME", "DESCRIPTION")
			require.NoError(t, err)
			assert.Equal(t, Group{Name: "NAME", Description: "DESCRIPTION"}, g)
		}},
		"group.list": {false, func(t *testing.T, c *Client) {
			gs, err := c.GroupList(ctx)
			require.NoError(t, err)
			assert.Len(t, gs, 1)
		}},
		"group.servers": {false, func(t *testing.T, c *Client) {
			ss, err := c.GroupServers(ctx, "NAME")
			require.NoError(t, err)
			assert.Equal(t, GroupServer{ID: "SERVER-1", HostName: "10.000.0.000", IP: "10.000.0.000", Type: "IMUNIFY"}, ss[0])
		}},
		"group.put": {false, func(t *testing.T, c *Client) {
			ss, err := c.GroupPut(ctx, "NAME", []string{"SERVER-1", "SERVER-2"})
			require.NoError(t, err)
			assert.Len(t, ss, 2)
			ss, err = c.GroupRemove(ctx, "NAME", []string{"SERVER-1"})
			require.NoError(t, err)
			assert.Len(t, ss, 2)
		}},
		"awp": {false, func(t *testing.T, c *Client) {
			es, err := c.AWPBilling(ctx, []string{"AWP_PREMIUM", "AWP_CDN"}, "2023-12")
			require.NoError(t, err)
			assert.Equal(t, "50 GB", es[1].CDNLimitType)
			require.NotNil(t, es[0].Username)
		}},
		"features": {false, func(t *testing.T, c *Client) {
			fs, err := c.Features(ctx)
			require.NoError(t, err)
			assert.Equal(t, []Feature{{FeatureID: 4600, ApplicableProductIDs: []int{1, 2, 3}}}, fs)
		}},
		"features.account": {false, func(t *testing.T, c *Client) {
			fs, err := c.AccountFeatures(ctx)
			require.NoError(t, err)
			assert.Equal(t, "ENABLED", fs["4600"])
			fs, err = c.SetAccountFeatures(ctx, map[string]string{"4600": "ENABLED"})
			require.NoError(t, err)
			assert.Len(t, fs, 3)
		}},
		"ab.list.older": {true, func(t *testing.T, c *Client) {
			bs, err := c.ABList(ctx)
			require.NoError(t, err)
			assert.Equal(t, Backup{ServerID: "SSTGZbtLrT99N0Ca", Size: 10, BackupID: 23, Datacenter: "EU2"}, bs[0])
		}},
		"ab.backup.older": {true, func(t *testing.T, c *Client) {
			b, err := c.ABCreate(ctx, "SSTGZbtLrT99N0Ca", 10, "EU2")
			require.NoError(t, err)
			assert.Equal(t, FlexInt(23), b.BackupID)
			_, err = c.ABResize(ctx, 23, 10)
			require.NoError(t, err)
			_, err = c.ABRemove(ctx, 23)
			require.NoError(t, err)
		}},
	}
	used := map[string]bool{}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, ok := samples[name]
			require.True(t, ok, "no sample %s", name)
			used[name] = true
			body := s.body
			if s.irregular != "" {
				assert.False(t, json.Valid([]byte(body)), "%s is marked irregular (%s) but is valid JSON", name, s.irregular)
				fixed, ok := samples[name+".fixed"]
				require.True(t, ok, "no corrected form of %s", name)
				used[name+".fixed"] = true
				body = fixed.body
			} else if name != "kcare.nagios" {
				require.True(t, json.Valid([]byte(body)), "%s is not valid JSON; mark it irregular", name)
			}
			tc.run(t, serve(t, body, tc.wrap && !s.envelope))
		})
	}
	// The .plain samples go through ParsePlain.
	p, err := ParsePlain(samples["status.plain"].body)
	require.NoError(t, err)
	assert.True(t, p.Success)
	assert.Equal(t, "false", p.Fields["db_clweb_online"])
	assert.Equal(t, "true", p.Fields["rhn_queue_full"])
	assert.Len(t, p.Order, 8)
	p, err = ParsePlain(samples["plain.success"].body)
	require.NoError(t, err)
	assert.Equal(t, "0", p.Fields["code"])
	p, err = ParsePlain(samples["plain.error"].body)
	require.NoError(t, err)
	assert.False(t, p.Success)
	assert.Equal(t, "Unexpected server error", p.Message)
	for _, n := range []string{"status.plain", "plain.success", "plain.error"} {
		used[n] = true
	}
	for name := range samples {
		assert.True(t, used[name], "sample %s is not checked", name)
	}
}

// A .plain answer that is not one, or a failure message, never quotes the
// account's secret key back.
func TestPlainAnswersNeverQuoteTheSecret(t *testing.T) {
	ctx := context.Background()
	c := serve(t, "<html>denied for key my_secret_key</html>", false)
	_, err := c.StatusPlain(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "must start with success:")
	assert.Contains(t, err.Error(), "<html>denied")
	assert.NotContains(t, err.Error(), "my_secret_key")

	c = serve(t, "success:false\nmessage:bad key my_secret_key", false)
	_, err = c.StatusPlain(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad key")
	assert.NotContains(t, err.Error(), "my_secret_key")
}

// A first line with a bare word where a name:value pair belongs is read
// for what it holds, and a message runs to the end of its line.
func TestParsePlainOddFirstLines(t *testing.T) {
	p, err := ParsePlain("success: message 00")
	require.NoError(t, err)
	assert.False(t, p.Success)
	assert.Empty(t, p.Message)
	assert.Empty(t, p.Fields)

	p, err = ParsePlain("success:false message:Key was not found\ncode:404")
	require.NoError(t, err)
	assert.Equal(t, "Key was not found", p.Message)
	assert.Equal(t, "404", p.Fields["code"])
}
