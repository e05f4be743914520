package client

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func boolArg(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// --- Status -----------------------------------------------------------

// EPStatus is GET /status.json.
func (c *Client) EPStatus() Endpoint { return ep(http.MethodGet, "/status.json") }

// Status reports the health of CloudLinux's services.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	return s, c.Do(ctx, c.EPStatus(), &s)
}

// EPStatusPlain is GET /status.plain.
func (c *Client) EPStatusPlain() Endpoint {
	e := ep(http.MethodGet, "/status.plain")
	e.Plain = true
	return e
}

// StatusPlain is the text form of Status.
func (c *Client) StatusPlain(ctx context.Context) (Plain, error) {
	body, err := c.raw(ctx, c.EPStatusPlain())
	if err != nil {
		return Plain{}, err
	}
	p, err := ParsePlain(string(body))
	if err != nil {
		return p, fmt.Errorf("CLN /status.plain: %w; it began %q", err, c.http.Redactor.Excerpt(string(body), 40))
	}
	if !p.Success {
		return p, &APIError{Path: "/status.plain", Message: "CLN: " + c.http.Redactor.String(orDefault(p.Message, "the status check failed"))}
	}
	return p, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// --- v2 CloudLinux keys and servers (newer edition) ----------------------

// EPCLKeyCreate is POST /v2/cl/keys.
func (c *Client) EPCLKeyCreate(product string, limit int64, note string) Endpoint {
	return ep(http.MethodPost, "/v2/cl/keys", "productType", product, "limit", itoa(limit), "note", note)
}

// CLKeyCreate creates a CloudLinux key (CL, CLP, CLS, CLADMIN).
func (c *Client) CLKeyCreate(ctx context.Context, product string, limit int64, note string) (CLKey, error) {
	var k CLKey
	return k, c.Do(ctx, c.EPCLKeyCreate(product, limit, note), &k)
}

// EPCLKeyUpdate is PATCH /v2/cl/keys.
func (c *Client) EPCLKeyUpdate(key string, limit int64, note string) Endpoint {
	return ep(http.MethodPatch, "/v2/cl/keys", "key", key, "limit", itoa(limit), "note", note)
}

// CLKeyUpdate changes a key's limit (and note).
func (c *Client) CLKeyUpdate(ctx context.Context, key string, limit int64, note string) (CLKey, error) {
	var k CLKey
	return k, c.Do(ctx, c.EPCLKeyUpdate(key, limit, note), &k)
}

// EPCLKeyRemove is DELETE /v2/cl/keys.
func (c *Client) EPCLKeyRemove(key string) Endpoint {
	return ep(http.MethodDelete, "/v2/cl/keys", "key", key)
}

// CLKeyRemove deletes a key.
func (c *Client) CLKeyRemove(ctx context.Context, key string) (string, error) {
	var out struct {
		Key string `json:"key"`
	}
	return out.Key, c.Do(ctx, c.EPCLKeyRemove(key), &out)
}

// EPCLKeyList is GET /v2/cl/keys.
func (c *Client) EPCLKeyList(product string) Endpoint {
	return ep(http.MethodGet, "/v2/cl/keys", "productType", product)
}

// CLKeyList lists the account's keys of a product.
func (c *Client) CLKeyList(ctx context.Context, product string) ([]CLKey, error) {
	var ks []CLKey
	return ks, c.Do(ctx, c.EPCLKeyList(product), &ks)
}

// EPCLServerList is GET /v2/cl/servers.
func (c *Client) EPCLServerList(product string) Endpoint {
	return ep(http.MethodGet, "/v2/cl/servers", "productType", product)
}

// CLServerList lists the account's servers of a product.
func (c *Client) CLServerList(ctx context.Context, product string) ([]CLServer, error) {
	var s []CLServer
	return s, c.Do(ctx, c.EPCLServerList(product), &s)
}

// EPCLServerRemove is DELETE /v2/cl/servers.
func (c *Client) EPCLServerRemove(id int64) Endpoint {
	return ep(http.MethodDelete, "/v2/cl/servers", "id", itoa(id))
}

// CLServerRemove removes a server by id.
func (c *Client) CLServerRemove(ctx context.Context, id int64) (CLServer, error) {
	var s CLServer
	return s, c.Do(ctx, c.EPCLServerRemove(id), &s)
}

// EPCLSubAccountServers is GET /v2/cl/sub-account/servers.
func (c *Client) EPCLSubAccountServers() Endpoint {
	return ep(http.MethodGet, "/v2/cl/sub-account/servers")
}

// CLSubAccountServers lists the sub-accounts' servers.
func (c *Client) CLSubAccountServers(ctx context.Context) ([]SubAccountServer, error) {
	var s []SubAccountServer
	return s, c.Do(ctx, c.EPCLSubAccountServers(), &s)
}

// --- ELS ------------------------------------------------------------------

// elsMethod is the newer edition's method, or GET for the older one.
func (c *Client) elsMethod(newer string) string {
	if c.edition == Older {
		return http.MethodGet
	}
	return newer
}

// elsProduct is the product parameter's name: productType, or code.
func (c *Client) elsProduct() string {
	if c.edition == Older {
		return "code"
	}
	return "productType"
}

// EPELSKeyCreate is /els/key/create.json.
func (c *Client) EPELSKeyCreate(product string, limit int64, note string) Endpoint {
	return ep(c.elsMethod(http.MethodPost), "/els/key/create.json", c.elsProduct(), product, "limit", itoa(limit), "note", note)
}

// ELSKeyCreate creates an ELS key (limit 0 is unlimited).
func (c *Client) ELSKeyCreate(ctx context.Context, product string, limit int64, note string) (ELSKey, error) {
	var k ELSKey
	return k, c.Do(ctx, c.EPELSKeyCreate(product, limit, note), &k)
}

// EPELSKeyUpdate is /els/key/update.json.
func (c *Client) EPELSKeyUpdate(key string, limit int64, note string) Endpoint {
	return ep(c.elsMethod(http.MethodPut), "/els/key/update.json", "key", key, "limit", itoa(limit), "note", note)
}

// ELSKeyUpdate changes an ELS key's limit and note.
func (c *Client) ELSKeyUpdate(ctx context.Context, key string, limit int64, note string) (ELSKey, error) {
	var k ELSKey
	return k, c.Do(ctx, c.EPELSKeyUpdate(key, limit, note), &k)
}

// EPELSKeyRemove is /els/key/remove.json.
func (c *Client) EPELSKeyRemove(key string) Endpoint {
	return ep(c.elsMethod(http.MethodDelete), "/els/key/remove.json", "key", key)
}

// ELSKeyRemove removes an ELS key with all its servers.
func (c *Client) ELSKeyRemove(ctx context.Context, key string) ([]ELSServer, error) {
	var s []ELSServer
	return s, c.Do(ctx, c.EPELSKeyRemove(key), &s)
}

// EPELSKeyList is GET /els/key/list.json.
func (c *Client) EPELSKeyList(product string) Endpoint {
	return ep(http.MethodGet, "/els/key/list.json", c.elsProduct(), product)
}

// ELSKeyList lists the ELS keys of a product.
func (c *Client) ELSKeyList(ctx context.Context, product string) ([]ELSKey, error) {
	var ks []ELSKey
	return ks, c.Do(ctx, c.EPELSKeyList(product), &ks)
}

// EPELSServerList is GET /els/srv/list.json. The key filter exists in the
// newer edition only.
func (c *Client) EPELSServerList(product, key string) Endpoint {
	if c.edition == Older {
		key = ""
	}
	return ep(http.MethodGet, "/els/srv/list.json", c.elsProduct(), product, "key", key)
}

// ELSServerList lists ELS servers of a product, optionally of one key.
func (c *Client) ELSServerList(ctx context.Context, product, key string) ([]ELSServer, error) {
	var s []ELSServer
	return s, c.Do(ctx, c.EPELSServerList(product, key), &s)
}

// EPELSServerRemove is /els/srv/remove.json. Both references' example URLs
// point at key/remove.json by mistake; srv/remove.json with id is meant.
func (c *Client) EPELSServerRemove(id string) Endpoint {
	return ep(c.elsMethod(http.MethodDelete), "/els/srv/remove.json", "id", id)
}

// ELSServerRemove removes an ELS server.
func (c *Client) ELSServerRemove(ctx context.Context, id string) (ELSServer, error) {
	var s ELSServer
	return s, c.Do(ctx, c.EPELSServerRemove(id), &s)
}

// --- Imunify --------------------------------------------------------------

// EPIMKeyCreate is GET /im/key/create.json.
func (c *Client) EPIMKeyCreate(code string, limit int64, note string) Endpoint {
	return ep(http.MethodGet, "/im/key/create.json", "code", code, "limit", itoa(limit), "note", note)
}

// IMKeyCreate creates an Imunify key.
func (c *Client) IMKeyCreate(ctx context.Context, code string, limit int64, note string) (IMKey, error) {
	var k IMKey
	return k, c.Do(ctx, c.EPIMKeyCreate(code, limit, note), &k)
}

// EPIMKeyUpdate is GET /im/key/update.json; nil fields are not sent.
func (c *Client) EPIMKeyUpdate(key string, limit *int64, note *string, servers *int64) Endpoint {
	e := ep(http.MethodGet, "/im/key/update.json", "key", key)
	if limit != nil {
		e.Query.Set("limit", itoa(*limit))
	}
	if note != nil {
		e.Query.Set("note", *note)
	}
	if servers != nil {
		e.Query.Set("servers", itoa(*servers))
	}
	return e
}

// IMKeyUpdate changes an Imunify key.
func (c *Client) IMKeyUpdate(ctx context.Context, key string, limit *int64, note *string, servers *int64) (IMKey, error) {
	var k IMKey
	return k, c.Do(ctx, c.EPIMKeyUpdate(key, limit, note, servers), &k)
}

// EPIMKeyRemove is GET /im/key/remove.json.
func (c *Client) EPIMKeyRemove(key string) Endpoint {
	return ep(http.MethodGet, "/im/key/remove.json", "key", key)
}

// IMKeyRemove removes an Imunify key with all its servers.
func (c *Client) IMKeyRemove(ctx context.Context, key string) ([]IMServer, error) {
	var s []IMServer
	return s, c.Do(ctx, c.EPIMKeyRemove(key), &s)
}

// EPIMKeyList is GET /im/key/list.json.
func (c *Client) EPIMKeyList() Endpoint { return ep(http.MethodGet, "/im/key/list.json") }

// IMKeyList lists the account's Imunify keys.
func (c *Client) IMKeyList(ctx context.Context) ([]IMKey, error) {
	var ks []IMKey
	return ks, c.Do(ctx, c.EPIMKeyList(), &ks)
}

// EPIMServerList is GET /im/srv/list.json.
func (c *Client) EPIMServerList(key string) Endpoint {
	return ep(http.MethodGet, "/im/srv/list.json", "key", key)
}

// IMServerList lists the servers of an Imunify key.
func (c *Client) IMServerList(ctx context.Context, key string) ([]IMServer, error) {
	var s []IMServer
	return s, c.Do(ctx, c.EPIMServerList(key), &s)
}

// EPIMServerRemove is GET /im/srv/remove.json.
func (c *Client) EPIMServerRemove(id string) Endpoint {
	return ep(http.MethodGet, "/im/srv/remove.json", "id", id)
}

// IMServerRemove removes an Imunify server.
func (c *Client) IMServerRemove(ctx context.Context, id string) (IMServer, error) {
	var s IMServer
	return s, c.Do(ctx, c.EPIMServerRemove(id), &s)
}

// EPIMServerConvert is GET /im/srv/convert.json.
func (c *Client) EPIMServerConvert(id, key string) Endpoint {
	return ep(http.MethodGet, "/im/srv/convert.json", "id", id, "key", key)
}

// IMServerConvert moves a server to another key (another licence type).
func (c *Client) IMServerConvert(ctx context.Context, id, key string) (IMServer, error) {
	var s IMServer
	return s, c.Do(ctx, c.EPIMServerConvert(id, key), &s)
}

// --- IP licences ----------------------------------------------------------

func (c *Client) ipl(name string, kv ...string) Endpoint {
	return ep(http.MethodGet, c.iplRoot+"/"+name, kv...)
}

// EPIPLAvailability is GET {ipl}/availability.json.
func (c *Client) EPIPLAvailability(ip string) Endpoint { return c.ipl("availability.json", "ip", ip) }

// IPLAvailability says which licence types an IP could take, and which
// the account holds.
func (c *Client) IPLAvailability(ctx context.Context, ip string) (Availability, error) {
	var a Availability
	return a, c.Do(ctx, c.EPIPLAvailability(ip), &a)
}

// EPIPLCheck is GET {ipl}/check.json.
func (c *Client) EPIPLCheck(ip string) Endpoint { return c.ipl("check.json", "ip", ip) }

// IPLCheck lists the licence types registered on an IP by anyone.
func (c *Client) IPLCheck(ctx context.Context, ip string) ([]int, error) {
	var t []int
	return t, c.Do(ctx, c.EPIPLCheck(ip), &t)
}

// EPIPLRegister is GET {ipl}/register.json.
func (c *Client) EPIPLRegister(ip string, typ int, elsAllowed *bool) Endpoint {
	return c.ipl("register.json", "ip", ip, "type", strconv.Itoa(typ), "els_allowed", boolArg(elsAllowed))
}

// IPLRegister registers an IP licence; an existing one is returned as is.
func (c *Client) IPLRegister(ctx context.Context, ip string, typ int, elsAllowed *bool) (IPLicense, error) {
	var l IPLicense
	return l, c.Do(ctx, c.EPIPLRegister(ip, typ, elsAllowed), &l)
}

// falseMeansNotFound calls an endpoint answering a boolean, where false
// means "not found or not the account's".
func (c *Client) falseMeansNotFound(ctx context.Context, e Endpoint, what string) error {
	var ok bool
	if err := c.Do(ctx, e, &ok); err != nil {
		return err
	}
	if !ok {
		return &notFound{msg: "CLN: " + what + " was not found, or is not this account's"}
	}
	return nil
}

// EPIPLConvert is GET {ipl}/convert.json.
func (c *Client) EPIPLConvert(ip string, typ, to int) Endpoint {
	return c.ipl("convert.json", "ip", ip, "type", strconv.Itoa(typ), "type_to", strconv.Itoa(to))
}

// IPLConvert changes an Imunify IP licence's type.
func (c *Client) IPLConvert(ctx context.Context, ip string, typ, to int) error {
	return c.falseMeansNotFound(ctx, c.EPIPLConvert(ip, typ, to), fmt.Sprintf("the type %d licence on %s", typ, ip))
}

// EPIPLRemove is GET {ipl}/remove.json. The type is always sent: without
// it the API removes every licence on the IP.
func (c *Client) EPIPLRemove(ip string, typ int) Endpoint {
	return c.ipl("remove.json", "ip", ip, "type", strconv.Itoa(typ))
}

// IPLRemove removes one licence type from an IP. There is deliberately no
// way to remove all types at once.
func (c *Client) IPLRemove(ctx context.Context, ip string, typ int) error {
	if typ <= 0 {
		return fmt.Errorf("a licence type is required: without one CLN removes every licence on %s", ip)
	}
	return c.falseMeansNotFound(ctx, c.EPIPLRemove(ip, typ), fmt.Sprintf("the type %d licence on %s", typ, ip))
}

// EPIPLList is GET {ipl}/list.json.
func (c *Client) EPIPLList() Endpoint { return c.ipl("list.json") }

// IPLList lists the account's IP licences.
func (c *Client) IPLList(ctx context.Context) ([]IPLicense, error) {
	var l []IPLicense
	return l, c.Do(ctx, c.EPIPLList(), &l)
}

// MaxServerIPs is how many IPs one server.json call takes (newer edition).
const MaxServerIPs = 100

// EPIPLServer is GET {ipl}/server.json.
func (c *Client) EPIPLServer(ips []string) Endpoint {
	return c.ipl("server.json", "ip", strings.Join(ips, ","))
}

// IPLServer returns the account's licences on the given IPs with server
// information. The newer edition takes up to 100 IPs a call; the older
// one a single IP, so it is called once per IP.
func (c *Client) IPLServer(ctx context.Context, ips []string) ([]IPLicense, error) {
	var out []IPLicense
	step := MaxServerIPs
	if c.edition == Older {
		step = 1
	}
	for i := 0; i < len(ips); i += step {
		var part []IPLicense
		if err := c.Do(ctx, c.EPIPLServer(ips[i:min(i+step, len(ips))]), &part); err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	return out, nil
}

// EPIPLUpdate is GET {ipl}/update.json.
func (c *Client) EPIPLUpdate(ip string, typ int, elsAllowed bool) Endpoint {
	t := ""
	if typ > 0 {
		t = strconv.Itoa(typ)
	}
	return c.ipl("update.json", "ip", ip, "type", t, "els_allowed", strconv.FormatBool(elsAllowed))
}

// IPLUpdate sets whether an IP licence allows CloudLinux 6 registration.
func (c *Client) IPLUpdate(ctx context.Context, ip string, typ int, elsAllowed bool) error {
	return c.falseMeansNotFound(ctx, c.EPIPLUpdate(ip, typ, elsAllowed), "the licence on "+ip)
}

// --- KernelCare -----------------------------------------------------------

// EPKCKeyCreate is GET /kcare/key/create.json.
func (c *Client) EPKCKeyCreate(limit int64, note string) Endpoint {
	return ep(http.MethodGet, "/kcare/key/create.json", "limit", itoa(limit), "note", note)
}

// KCKeyCreate creates a KernelCare key and returns it.
func (c *Client) KCKeyCreate(ctx context.Context, limit int64, note string) (string, error) {
	if len([]rune(note)) > 100 {
		return "", fmt.Errorf("a KernelCare key note has at most 100 characters")
	}
	var k string
	return k, c.Do(ctx, c.EPKCKeyCreate(limit, note), &k)
}

// EPKCKeyDelete is GET /kcare/key/delete.json.
func (c *Client) EPKCKeyDelete(key string) Endpoint {
	return ep(http.MethodGet, "/kcare/key/delete.json", "key", key)
}

// KCKeyDelete deletes a KernelCare key.
func (c *Client) KCKeyDelete(ctx context.Context, key string) error {
	return c.falseMeansNotFound(ctx, c.EPKCKeyDelete(key), "that KernelCare key")
}

// EPKCKeyList is GET /kcare/key/list.json.
func (c *Client) EPKCKeyList() Endpoint { return ep(http.MethodGet, "/kcare/key/list.json") }

// KCKeyList lists the account's KernelCare keys.
func (c *Client) KCKeyList(ctx context.Context) ([]KCKey, error) {
	var ks []KCKey
	return ks, c.Do(ctx, c.EPKCKeyList(), &ks)
}

// EPKCKeyServers is GET /kcare/key/servers.json.
func (c *Client) EPKCKeyServers(key string) Endpoint {
	return ep(http.MethodGet, "/kcare/key/servers.json", "key", key)
}

// KCKeyServers lists the servers registered with a key.
func (c *Client) KCKeyServers(ctx context.Context, key string) ([]KCServer, error) {
	var s []KCServer
	return s, c.Do(ctx, c.EPKCKeyServers(key), &s)
}

// EPKCKeySetCIDR is GET /kcare/key/set_cidr.json.
func (c *Client) EPKCKeySetCIDR(key string, cidrs []string) Endpoint {
	return ep(http.MethodGet, "/kcare/key/set_cidr.json", "key", key, "cidr", strings.Join(cidrs, ","))
}

var cidrCodes = map[int]string{1: "an IP address in one of the CIDRs is not valid", 2: "a prefix in one of the CIDRs is not valid", 3: "CLN had an internal error"}

// KCKeySetCIDR sets the networks a key may register from. A non-zero code
// in a successful answer is a failure.
func (c *Client) KCKeySetCIDR(ctx context.Context, key string, cidrs []string) error {
	var out struct {
		Code int `json:"code"`
	}
	if err := c.Do(ctx, c.EPKCKeySetCIDR(key, cidrs), &out); err != nil {
		return err
	}
	if out.Code != 0 {
		msg, ok := cidrCodes[out.Code]
		if !ok {
			msg = "unknown failure"
		}
		return &APIError{Path: "/kcare/key/set_cidr.json", Message: fmt.Sprintf("CLN refused the CIDRs (code %d): %s", out.Code, msg)}
	}
	return nil
}

// EPKCServerRemove is GET /kcare/srv/remove.json.
func (c *Client) EPKCServerRemove(serverID string) Endpoint {
	return ep(http.MethodGet, "/kcare/srv/remove.json", "server_id", serverID)
}

// KCServerRemove removes a KernelCare server. CLN says success with null
// data when there was no such server; that is reported as not found.
func (c *Client) KCServerRemove(ctx context.Context, serverID string) (KCRemoved, error) {
	e := c.EPKCServerRemove(serverID)
	body, err := c.raw(ctx, e)
	if err != nil {
		return KCRemoved{}, err
	}
	var out KCRemoved
	if err := decodeEnvelope(e.Path, body, &out, c.http.Redactor); err != nil {
		return out, err
	}
	if isNullData(body) {
		return out, &notFound{msg: "CLN: " + orDefault(messageOf(body), "server not found")}
	}
	return out, nil
}

// EPKCNagios is GET /kcare/nagios/{key_id}.
func (c *Client) EPKCNagios(keyID string) Endpoint {
	e := ep(http.MethodGet, "/kcare/nagios/"+keyID)
	e.Plain = true
	return e
}

// NagiosOK is the answer when every server is up to date.
const NagiosOK = "KernelCare OK"

// KCNagios checks the servers of a monitoring key: ok is false (and text
// says why) when any is out of date, unsupported or inactive.
func (c *Client) KCNagios(ctx context.Context, keyID string) (text string, ok bool, err error) {
	body, err := c.raw(ctx, c.EPKCNagios(keyID))
	if err != nil {
		return "", false, err
	}
	t := strings.TrimSpace(string(body))
	return t, strings.HasPrefix(t, NagiosOK), nil
}

// EPKCNagiosReseller is GET /kcare/nagios-res/{login}/{token}.
func (c *Client) EPKCNagiosReseller() Endpoint {
	e := ep(http.MethodGet, "/kcare/nagios-res/"+c.login)
	e.Plain, e.TokenInPath = true, true
	return e
}

// KCNagiosReseller checks every server of the reseller.
func (c *Client) KCNagiosReseller(ctx context.Context) (text string, ok bool, err error) {
	body, err := c.raw(ctx, c.EPKCNagiosReseller())
	if err != nil {
		return "", false, err
	}
	t := strings.TrimSpace(string(body))
	return t, strings.HasPrefix(t, NagiosOK), nil
}

// --- Server groups --------------------------------------------------------

// EPGroupCreate is POST /group/create.json.
func (c *Client) EPGroupCreate(name, description string) Endpoint {
	return ep(http.MethodPost, "/group/create.json", "name", name, "description", description)
}

// GroupCreate creates a server group.
func (c *Client) GroupCreate(ctx context.Context, name, description string) (Group, error) {
	var g Group
	return g, c.Do(ctx, c.EPGroupCreate(name, description), &g)
}

// EPGroupList is GET /group/list.json.
func (c *Client) EPGroupList() Endpoint { return ep(http.MethodGet, "/group/list.json") }

// GroupList lists the account's groups.
func (c *Client) GroupList(ctx context.Context) ([]Group, error) {
	var g []Group
	return g, c.Do(ctx, c.EPGroupList(), &g)
}

// EPGroupServers is GET /group/servers/list.json.
func (c *Client) EPGroupServers(name string) Endpoint {
	return ep(http.MethodGet, "/group/servers/list.json", "name", name)
}

// GroupServers lists a group's servers.
func (c *Client) GroupServers(ctx context.Context, name string) ([]GroupServer, error) {
	var s []GroupServer
	return s, c.Do(ctx, c.EPGroupServers(name), &s)
}

// EPGroupPut is PUT /group/servers/put.json.
func (c *Client) EPGroupPut(name string, ids []string) Endpoint {
	return ep(http.MethodPut, "/group/servers/put.json", "name", name, "server_ids", strings.Join(ids, ","))
}

// GroupPut adds servers to a group.
func (c *Client) GroupPut(ctx context.Context, name string, ids []string) ([]GroupServer, error) {
	var s []GroupServer
	return s, c.Do(ctx, c.EPGroupPut(name, ids), &s)
}

// EPGroupRemove is DELETE /group/servers/remove.json.
func (c *Client) EPGroupRemove(name string, ids []string) Endpoint {
	return ep(http.MethodDelete, "/group/servers/remove.json", "name", name, "server_ids", strings.Join(ids, ","))
}

// GroupRemove takes servers out of a group (it removes nothing else).
func (c *Client) GroupRemove(ctx context.Context, name string, ids []string) ([]GroupServer, error) {
	var s []GroupServer
	return s, c.Do(ctx, c.EPGroupRemove(name, ids), &s)
}

// --- CloudLinux Backups (older edition) ------------------------------------

// EPABList is GET /ab/list.json.
func (c *Client) EPABList() Endpoint { return ep(http.MethodGet, "/ab/list.json") }

// ABList lists the account's backups.
func (c *Client) ABList(ctx context.Context) ([]Backup, error) {
	var b []Backup
	return b, c.Do(ctx, c.EPABList(), &b)
}

// EPABCreate is GET /ab/im/create.json.
func (c *Client) EPABCreate(serverID string, size int64, datacenter string) Endpoint {
	return ep(http.MethodGet, "/ab/im/create.json", "server_id", serverID, "size", itoa(size), "datacenter", datacenter)
}

// ABCreate creates a backup for an Imunify360 server (size in GB, a
// multiple of ten).
func (c *Client) ABCreate(ctx context.Context, serverID string, size int64, datacenter string) (Backup, error) {
	if size <= 0 || size%10 != 0 {
		return Backup{}, fmt.Errorf("backup size %d GB: it must be a positive multiple of ten", size)
	}
	var b Backup
	return b, c.Do(ctx, c.EPABCreate(serverID, size, datacenter), &b)
}

// EPABResize is GET /ab/resize.json.
func (c *Client) EPABResize(backupID, delta int64) Endpoint {
	return ep(http.MethodGet, "/ab/resize.json", "backup_id", itoa(backupID), "delta", itoa(delta))
}

// ABResize grows (or, with a negative delta, shrinks) a backup.
func (c *Client) ABResize(ctx context.Context, backupID, delta int64) (Backup, error) {
	if delta == 0 || delta%10 != 0 {
		return Backup{}, fmt.Errorf("resize by %d GB: it must be a non-zero multiple of ten", delta)
	}
	var b Backup
	return b, c.Do(ctx, c.EPABResize(backupID, delta), &b)
}

// EPABRemove is GET /ab/remove.json.
func (c *Client) EPABRemove(backupID int64) Endpoint {
	return ep(http.MethodGet, "/ab/remove.json", "backup_id", itoa(backupID))
}

// ABRemove removes a backup.
func (c *Client) ABRemove(ctx context.Context, backupID int64) (Backup, error) {
	var b Backup
	return b, c.Do(ctx, c.EPABRemove(backupID), &b)
}

// --- AccelerateWP and features (newer edition) --------------------------------

// EPAWPBilling is GET /cl/awp (no .json, no v2).
func (c *Client) EPAWPBilling(products []string, yearMonth string) Endpoint {
	return ep(http.MethodGet, "/cl/awp", "products", strings.Join(products, ","), "yearMonth", yearMonth)
}

// AWPBilling lists what is billable for AccelerateWP in a month (yyyy-MM).
func (c *Client) AWPBilling(ctx context.Context, products []string, yearMonth string) ([]AWPEntry, error) {
	var e []AWPEntry
	return e, c.Do(ctx, c.EPAWPBilling(products, yearMonth), &e)
}

// EPFeatures is GET /v2/features.
func (c *Client) EPFeatures() Endpoint { return ep(http.MethodGet, "/v2/features") }

// Features lists the supported features.
func (c *Client) Features(ctx context.Context) ([]Feature, error) {
	var f []Feature
	return f, c.Do(ctx, c.EPFeatures(), &f)
}

// EPAccountFeatures is GET /v2/features/account.
func (c *Client) EPAccountFeatures() Endpoint { return ep(http.MethodGet, "/v2/features/account") }

// AccountFeatures returns each feature's permission for the account.
func (c *Client) AccountFeatures(ctx context.Context) (map[string]string, error) {
	var f map[string]string
	return f, c.Do(ctx, c.EPAccountFeatures(), &f)
}

// EPSetAccountFeatures is PATCH /v2/features/account.
func (c *Client) EPSetAccountFeatures(set map[string]string) Endpoint {
	e := ep(http.MethodPatch, "/v2/features/account")
	e.JSON = set
	return e
}

// SetAccountFeatures changes some features' permissions (ENABLED,
// DISABLED, UNSET); the others are left alone.
func (c *Client) SetAccountFeatures(ctx context.Context, set map[string]string) (map[string]string, error) {
	var f map[string]string
	return f, c.Do(ctx, c.EPSetAccountFeatures(set), &f)
}
