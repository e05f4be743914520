package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
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
func (c *Client) EPStatus() Call[Status] {
	return decoded[Status](c, reads(http.MethodGet, "/status.json"))
}

// Status reports the health of CloudLinux's services.
func (c *Client) Status(ctx context.Context) (Status, error) {
	return c.EPStatus().Do(ctx)
}

// EPStatusPlain is GET /status.plain.
func (c *Client) EPStatusPlain() Call[Plain] {
	e := reads(http.MethodGet, "/status.plain")
	e.Plain = true
	return Call[Plain]{Endpoint: e, c: c, read: readStatusPlain}
}

func readStatusPlain(ctx context.Context, c *Client, e Endpoint) (Plain, error) {
	body, err := c.raw(ctx, e)
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

// StatusPlain is the text form of Status.
func (c *Client) StatusPlain(ctx context.Context) (Plain, error) {
	return c.EPStatusPlain().Do(ctx)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// --- v2 CloudLinux keys and servers (newer edition) ----------------------

// EPCLKeyCreate is POST /v2/cl/keys.
func (c *Client) EPCLKeyCreate(product string, limit int64, note string) Call[CLKey] {
	return decoded[CLKey](c, changes("`/cln cl key list`", http.MethodPost, "/v2/cl/keys", "productType", product, "limit", itoa(limit), "note", note))
}

// CLKeyCreate creates a CloudLinux key (CL, CLP, CLS, CLADMIN).
func (c *Client) CLKeyCreate(ctx context.Context, product string, limit int64, note string) (CLKey, error) {
	return c.EPCLKeyCreate(product, limit, note).Do(ctx)
}

// EPCLKeyUpdate is PATCH /v2/cl/keys.
func (c *Client) EPCLKeyUpdate(key string, limit int64, note string) Call[CLKey] {
	return decoded[CLKey](c, changes("`/cln cl key list`", http.MethodPatch, "/v2/cl/keys", "key", key, "limit", itoa(limit), "note", note))
}

// CLKeyUpdate changes a key's limit (and note).
func (c *Client) CLKeyUpdate(ctx context.Context, key string, limit int64, note string) (CLKey, error) {
	return c.EPCLKeyUpdate(key, limit, note).Do(ctx)
}

// EPCLKeyRemove is DELETE /v2/cl/keys; it answers the key deleted.
func (c *Client) EPCLKeyRemove(key string) Call[string] {
	return Call[string]{Endpoint: changes("`/cln cl key list`", http.MethodDelete, "/v2/cl/keys", "key", key), c: c, read: func(ctx context.Context, c *Client, e Endpoint) (string, error) {
		var out struct {
			Key string `json:"key"`
		}
		return out.Key, c.Do(ctx, e, &out)
	}}
}

// CLKeyRemove deletes a key.
func (c *Client) CLKeyRemove(ctx context.Context, key string) (string, error) {
	return c.EPCLKeyRemove(key).Do(ctx)
}

// EPCLKeyList is GET /v2/cl/keys.
func (c *Client) EPCLKeyList(product string) Call[[]CLKey] {
	return decoded[[]CLKey](c, reads(http.MethodGet, "/v2/cl/keys", "productType", product))
}

// CLKeyList lists the account's keys of a product.
func (c *Client) CLKeyList(ctx context.Context, product string) ([]CLKey, error) {
	return c.EPCLKeyList(product).Do(ctx)
}

// EPCLServerList is GET /v2/cl/servers.
func (c *Client) EPCLServerList(product string) Call[[]CLServer] {
	return decoded[[]CLServer](c, reads(http.MethodGet, "/v2/cl/servers", "productType", product))
}

// CLServerList lists the account's servers of a product.
func (c *Client) CLServerList(ctx context.Context, product string) ([]CLServer, error) {
	return c.EPCLServerList(product).Do(ctx)
}

// EPCLServerRemove is DELETE /v2/cl/servers.
func (c *Client) EPCLServerRemove(id int64) Call[CLServer] {
	return decoded[CLServer](c, changes("`/cln cl server list`", http.MethodDelete, "/v2/cl/servers", "id", itoa(id)))
}

// CLServerRemove removes a server by id.
func (c *Client) CLServerRemove(ctx context.Context, id int64) (CLServer, error) {
	return c.EPCLServerRemove(id).Do(ctx)
}

// EPCLSubAccountServers is GET /v2/cl/sub-account/servers.
func (c *Client) EPCLSubAccountServers() Call[[]SubAccountServer] {
	return decoded[[]SubAccountServer](c, reads(http.MethodGet, "/v2/cl/sub-account/servers"))
}

// CLSubAccountServers lists the sub-accounts' servers.
func (c *Client) CLSubAccountServers(ctx context.Context) ([]SubAccountServer, error) {
	return c.EPCLSubAccountServers().Do(ctx)
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
func (c *Client) EPELSKeyCreate(product string, limit int64, note string) Call[ELSKey] {
	return decoded[ELSKey](c, changes("`/cln els key list`", c.elsMethod(http.MethodPost), "/els/key/create.json", c.elsProduct(), product, "limit", itoa(limit), "note", note))
}

// ELSKeyCreate creates an ELS key (limit 0 is unlimited).
func (c *Client) ELSKeyCreate(ctx context.Context, product string, limit int64, note string) (ELSKey, error) {
	return c.EPELSKeyCreate(product, limit, note).Do(ctx)
}

// EPELSKeyUpdate is /els/key/update.json.
func (c *Client) EPELSKeyUpdate(key string, limit int64, note string) Call[ELSKey] {
	return decoded[ELSKey](c, changes("`/cln els key list`", c.elsMethod(http.MethodPut), "/els/key/update.json", "key", key, "limit", itoa(limit), "note", note))
}

// ELSKeyUpdate changes an ELS key's limit and note.
func (c *Client) ELSKeyUpdate(ctx context.Context, key string, limit int64, note string) (ELSKey, error) {
	return c.EPELSKeyUpdate(key, limit, note).Do(ctx)
}

// EPELSKeyRemove is /els/key/remove.json.
func (c *Client) EPELSKeyRemove(key string) Call[[]ELSServer] {
	return decoded[[]ELSServer](c, changes("`/cln els key list`", c.elsMethod(http.MethodDelete), "/els/key/remove.json", "key", key))
}

// ELSKeyRemove removes an ELS key with all its servers.
func (c *Client) ELSKeyRemove(ctx context.Context, key string) ([]ELSServer, error) {
	return c.EPELSKeyRemove(key).Do(ctx)
}

// EPELSKeyList is GET /els/key/list.json.
func (c *Client) EPELSKeyList(product string) Call[[]ELSKey] {
	return decoded[[]ELSKey](c, reads(http.MethodGet, "/els/key/list.json", c.elsProduct(), product))
}

// ELSKeyList lists the ELS keys of a product.
func (c *Client) ELSKeyList(ctx context.Context, product string) ([]ELSKey, error) {
	return c.EPELSKeyList(product).Do(ctx)
}

// EPELSServerList is GET /els/srv/list.json. The key filter exists in the
// newer edition only.
func (c *Client) EPELSServerList(product, key string) Call[[]ELSServer] {
	if c.edition == Older {
		key = ""
	}
	return decoded[[]ELSServer](c, reads(http.MethodGet, "/els/srv/list.json", c.elsProduct(), product, "key", key))
}

// ELSServerList lists ELS servers of a product, optionally of one key.
func (c *Client) ELSServerList(ctx context.Context, product, key string) ([]ELSServer, error) {
	return c.EPELSServerList(product, key).Do(ctx)
}

// EPELSServerRemove is /els/srv/remove.json. Both references' example URLs
// point at key/remove.json by mistake; srv/remove.json with id is meant.
func (c *Client) EPELSServerRemove(id string) Call[ELSServer] {
	return decoded[ELSServer](c, changes("`/cln els server list`", c.elsMethod(http.MethodDelete), "/els/srv/remove.json", "id", id))
}

// ELSServerRemove removes an ELS server.
func (c *Client) ELSServerRemove(ctx context.Context, id string) (ELSServer, error) {
	return c.EPELSServerRemove(id).Do(ctx)
}

// --- Imunify --------------------------------------------------------------

// EPIMKeyCreate is GET /im/key/create.json.
func (c *Client) EPIMKeyCreate(code string, limit int64, note string) Call[IMKey] {
	return decoded[IMKey](c, changes("`/cln im key list`", http.MethodGet, "/im/key/create.json", "code", code, "limit", itoa(limit), "note", note))
}

// IMKeyCreate creates an Imunify key.
func (c *Client) IMKeyCreate(ctx context.Context, code string, limit int64, note string) (IMKey, error) {
	return c.EPIMKeyCreate(code, limit, note).Do(ctx)
}

// EPIMKeyUpdate is GET /im/key/update.json; nil fields are not sent.
func (c *Client) EPIMKeyUpdate(key string, limit *int64, note *string, servers *int64) Call[IMKey] {
	e := changes("`/cln im key list`", http.MethodGet, "/im/key/update.json", "key", key)
	if limit != nil {
		e.Query.Set("limit", itoa(*limit))
	}
	if note != nil {
		e.Query.Set("note", *note)
	}
	if servers != nil {
		e.Query.Set("servers", itoa(*servers))
	}
	return decoded[IMKey](c, e)
}

// IMKeyUpdate changes an Imunify key.
func (c *Client) IMKeyUpdate(ctx context.Context, key string, limit *int64, note *string, servers *int64) (IMKey, error) {
	return c.EPIMKeyUpdate(key, limit, note, servers).Do(ctx)
}

// EPIMKeyRemove is GET /im/key/remove.json. It answers the servers removed
// with the key (the references) or a boolean (CloudLinux's WHMCS module);
// see removal.
func (c *Client) EPIMKeyRemove(key string) Call[Removed[IMServer]] {
	return removal[IMServer](c, changes("`/cln im key list`", http.MethodGet, "/im/key/remove.json", "key", key), "that Imunify key")
}

// IMKeyRemove removes an Imunify key with all its servers.
func (c *Client) IMKeyRemove(ctx context.Context, key string) (Removed[IMServer], error) {
	return c.EPIMKeyRemove(key).Do(ctx)
}

// EPIMKeyList is GET /im/key/list.json.
func (c *Client) EPIMKeyList() Call[[]IMKey] {
	return decoded[[]IMKey](c, reads(http.MethodGet, "/im/key/list.json"))
}

// IMKeyList lists the account's Imunify keys.
func (c *Client) IMKeyList(ctx context.Context) ([]IMKey, error) {
	return c.EPIMKeyList().Do(ctx)
}

// EPIMServerList is GET /im/srv/list.json.
func (c *Client) EPIMServerList(key string) Call[[]IMServer] {
	return decoded[[]IMServer](c, reads(http.MethodGet, "/im/srv/list.json", "key", key))
}

// IMServerList lists the servers of an Imunify key.
func (c *Client) IMServerList(ctx context.Context, key string) ([]IMServer, error) {
	return c.EPIMServerList(key).Do(ctx)
}

// EPIMServerRemove is GET /im/srv/remove.json.
func (c *Client) EPIMServerRemove(id string) Call[IMServer] {
	return decoded[IMServer](c, changes("`/cln im server list` for the key", http.MethodGet, "/im/srv/remove.json", "id", id))
}

// IMServerRemove removes an Imunify server.
func (c *Client) IMServerRemove(ctx context.Context, id string) (IMServer, error) {
	return c.EPIMServerRemove(id).Do(ctx)
}

// EPIMServerConvert is GET /im/srv/convert.json.
func (c *Client) EPIMServerConvert(id, key string) Call[IMServer] {
	return decoded[IMServer](c, changes("`/cln im server list` for both keys", http.MethodGet, "/im/srv/convert.json", "id", id, "key", key))
}

// IMServerConvert moves a server to another key (another licence type).
func (c *Client) IMServerConvert(ctx context.Context, id, key string) (IMServer, error) {
	return c.EPIMServerConvert(id, key).Do(ctx)
}

// --- IP licences ----------------------------------------------------------

func (c *Client) iplRead(name string, kv ...string) Endpoint {
	return reads(http.MethodGet, c.iplRoot+"/"+name, kv...)
}

// iplChange is an IP-licence call that changes a licence: `/cln ipl list`
// shows whether it was done.
func (c *Client) iplChange(name string, kv ...string) Endpoint {
	return changes("`/cln ipl list`", http.MethodGet, c.iplRoot+"/"+name, kv...)
}

// EPIPLAvailability is GET {ipl}/availability.json.
func (c *Client) EPIPLAvailability(ip string) Call[Availability] {
	return decoded[Availability](c, c.iplRead("availability.json", "ip", ip))
}

// IPLAvailability says which licence types an IP could take, and which
// the account holds.
func (c *Client) IPLAvailability(ctx context.Context, ip string) (Availability, error) {
	return c.EPIPLAvailability(ip).Do(ctx)
}

// EPIPLCheck is GET {ipl}/check.json.
func (c *Client) EPIPLCheck(ip string) Call[[]int] {
	return decoded[[]int](c, c.iplRead("check.json", "ip", ip))
}

// IPLCheck lists the licence types registered on an IP by anyone.
func (c *Client) IPLCheck(ctx context.Context, ip string) ([]int, error) {
	return c.EPIPLCheck(ip).Do(ctx)
}

// EPIPLRegister is GET {ipl}/register.json.
func (c *Client) EPIPLRegister(ip string, typ int, elsAllowed *bool) Call[IPLicense] {
	return decoded[IPLicense](c, c.iplChange("register.json", "ip", ip, "type", strconv.Itoa(typ), "els_allowed", boolArg(elsAllowed)))
}

// IPLRegister registers an IP licence; an existing one is returned as is.
func (c *Client) IPLRegister(ctx context.Context, ip string, typ int, elsAllowed *bool) (IPLicense, error) {
	return c.EPIPLRegister(ip, typ, elsAllowed).Do(ctx)
}

// EPIPLConvert is GET {ipl}/convert.json.
func (c *Client) EPIPLConvert(ip string, typ, to int) Call[Done] {
	return confirmed(c, c.iplChange("convert.json", "ip", ip, "type", strconv.Itoa(typ), "type_to", strconv.Itoa(to)), fmt.Sprintf("the type %d licence on %s", typ, ip))
}

// IPLConvert changes an Imunify IP licence's type.
func (c *Client) IPLConvert(ctx context.Context, ip string, typ, to int) error {
	_, err := c.EPIPLConvert(ip, typ, to).Do(ctx)
	return err
}

// EPIPLRemove is GET {ipl}/remove.json. The type is always sent: without
// it the API removes every licence on the IP, so there is deliberately no
// way to remove all types at once.
func (c *Client) EPIPLRemove(ip string, typ int) Call[Done] {
	k := confirmed(c, c.iplChange("remove.json", "ip", ip, "type", strconv.Itoa(typ)), fmt.Sprintf("the type %d licence on %s", typ, ip))
	return checked(k, func() error {
		if typ <= 0 {
			return fmt.Errorf("a licence type is required: without one CLN removes every licence on %s", ip)
		}
		return nil
	})
}

// IPLRemove removes one licence type from an IP.
func (c *Client) IPLRemove(ctx context.Context, ip string, typ int) error {
	_, err := c.EPIPLRemove(ip, typ).Do(ctx)
	return err
}

// EPIPLList is GET {ipl}/list.json.
func (c *Client) EPIPLList() Call[[]IPLicense] {
	return decoded[[]IPLicense](c, c.iplRead("list.json"))
}

// IPLList lists the account's IP licences.
func (c *Client) IPLList(ctx context.Context) ([]IPLicense, error) {
	return c.EPIPLList().Do(ctx)
}

// MaxServerIPs is how many IPs one server.json call takes (newer edition).
const MaxServerIPs = 100

// EPIPLServer is GET {ipl}/server.json for as many IPs as one call takes
// (see EPIPLServers).
func (c *Client) EPIPLServer(ips []string) Call[[]IPLicense] {
	return decoded[[]IPLicense](c, c.iplRead("server.json", "ip", strings.Join(ips, ",")))
}

// EPIPLServers are the server.json calls for ips: the newer edition takes
// up to 100 IPs a call; the older one a single IP, so one call per IP.
func (c *Client) EPIPLServers(ips []string) []Call[[]IPLicense] {
	step := MaxServerIPs
	if c.edition == Older {
		step = 1
	}
	var calls []Call[[]IPLicense]
	for i := 0; i < len(ips); i += step {
		calls = append(calls, c.EPIPLServer(ips[i:min(i+step, len(ips))]))
	}
	return calls
}

// IPLServer returns the account's licences on the given IPs with server
// information.
func (c *Client) IPLServer(ctx context.Context, ips []string) ([]IPLicense, error) {
	var out []IPLicense
	for _, k := range c.EPIPLServers(ips) {
		part, err := k.Do(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	return out, nil
}

// EPIPLUpdate is GET {ipl}/update.json; without a type (0) it updates
// every licence on the IP.
func (c *Client) EPIPLUpdate(ip string, typ int, elsAllowed bool) Call[Done] {
	t := ""
	if typ > 0 {
		t = strconv.Itoa(typ)
	}
	return confirmed(c, c.iplChange("update.json", "ip", ip, "type", t, "els_allowed", strconv.FormatBool(elsAllowed)), "the licence on "+ip)
}

// IPLUpdate sets whether an IP licence allows CloudLinux 6 registration.
func (c *Client) IPLUpdate(ctx context.Context, ip string, typ int, elsAllowed bool) error {
	_, err := c.EPIPLUpdate(ip, typ, elsAllowed).Do(ctx)
	return err
}

// --- KernelCare -----------------------------------------------------------

// EPKCKeyCreate is GET /kcare/key/create.json; it answers the new key.
func (c *Client) EPKCKeyCreate(limit int64, note string) Call[string] {
	k := decoded[string](c, changes("`/cln kcare key list`", http.MethodGet, "/kcare/key/create.json", "limit", itoa(limit), "note", note))
	return checked(k, func() error {
		if len([]rune(note)) > 100 {
			return fmt.Errorf("a KernelCare key note has at most 100 characters")
		}
		return nil
	})
}

// KCKeyCreate creates a KernelCare key and returns it.
func (c *Client) KCKeyCreate(ctx context.Context, limit int64, note string) (string, error) {
	return c.EPKCKeyCreate(limit, note).Do(ctx)
}

// EPKCKeyDelete is GET /kcare/key/delete.json. The references document a
// boolean; a list (of the servers removed) is accepted too, see removal.
func (c *Client) EPKCKeyDelete(key string) Call[Removed[KCServer]] {
	return removal[KCServer](c, changes("`/cln kcare key list`", http.MethodGet, "/kcare/key/delete.json", "key", key), "that KernelCare key")
}

// KCKeyDelete deletes a KernelCare key.
func (c *Client) KCKeyDelete(ctx context.Context, key string) error {
	_, err := c.EPKCKeyDelete(key).Do(ctx)
	return err
}

// EPKCKeyList is GET /kcare/key/list.json.
func (c *Client) EPKCKeyList() Call[[]KCKey] {
	return decoded[[]KCKey](c, reads(http.MethodGet, "/kcare/key/list.json"))
}

// KCKeyList lists the account's KernelCare keys.
func (c *Client) KCKeyList(ctx context.Context) ([]KCKey, error) {
	return c.EPKCKeyList().Do(ctx)
}

// EPKCKeyServers is GET /kcare/key/servers.json.
func (c *Client) EPKCKeyServers(key string) Call[[]KCServer] {
	return decoded[[]KCServer](c, reads(http.MethodGet, "/kcare/key/servers.json", "key", key))
}

// KCKeyServers lists the servers registered with a key.
func (c *Client) KCKeyServers(ctx context.Context, key string) ([]KCServer, error) {
	return c.EPKCKeyServers(key).Do(ctx)
}

// EPKCKeySetCIDR is GET /kcare/key/set_cidr.json. A non-zero code in a
// successful answer is a failure.
func (c *Client) EPKCKeySetCIDR(key string, cidrs []string) Call[Done] {
	e := changes("`/cln kcare key list`", http.MethodGet, "/kcare/key/set_cidr.json", "key", key, "cidr", strings.Join(cidrs, ","))
	return Call[Done]{Endpoint: e, c: c, read: readSetCIDR}
}

var cidrCodes = map[int]string{1: "an IP address in one of the CIDRs is not valid", 2: "a prefix in one of the CIDRs is not valid", 3: "CLN had an internal error"}

func readSetCIDR(ctx context.Context, c *Client, e Endpoint) (Done, error) {
	var out struct {
		Code int `json:"code"`
	}
	if err := c.Do(ctx, e, &out); err != nil {
		return Done{}, err
	}
	if out.Code != 0 {
		msg, ok := cidrCodes[out.Code]
		if !ok {
			msg = "unknown failure"
		}
		return Done{}, &APIError{Path: e.Path, Message: fmt.Sprintf("CLN refused the CIDRs (code %d): %s", out.Code, msg)}
	}
	return Done{}, nil
}

// KCKeySetCIDR sets the networks a key may register from.
func (c *Client) KCKeySetCIDR(ctx context.Context, key string, cidrs []string) error {
	_, err := c.EPKCKeySetCIDR(key, cidrs).Do(ctx)
	return err
}

// EPKCServerRemove is GET /kcare/srv/remove.json. CLN says success with
// null data when there was no such server; that is reported as not found.
func (c *Client) EPKCServerRemove(serverID string) Call[KCRemoved] {
	e := changes("`/cln kcare key servers` for the key", http.MethodGet, "/kcare/srv/remove.json", "server_id", serverID)
	return Call[KCRemoved]{Endpoint: e, c: c, read: readKCServerRemove}
}

func readKCServerRemove(ctx context.Context, c *Client, e Endpoint) (KCRemoved, error) {
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

// KCServerRemove removes a KernelCare server.
func (c *Client) KCServerRemove(ctx context.Context, serverID string) (KCRemoved, error) {
	return c.EPKCServerRemove(serverID).Do(ctx)
}

// EPKCNagios is GET /kcare/nagios/{key_id}.
func (c *Client) EPKCNagios(keyID string) Call[Nagios] {
	e := reads(http.MethodGet, "/kcare/nagios/"+url.PathEscape(keyID))
	e.Plain = true
	return nagios(c, e)
}

// NagiosOK is the answer when every server is up to date.
const NagiosOK = "KernelCare OK"

// KCNagios checks the servers of a monitoring key: ok is false (and text
// says why) when any is out of date, unsupported or inactive.
func (c *Client) KCNagios(ctx context.Context, keyID string) (text string, ok bool, err error) {
	n, err := c.EPKCNagios(keyID).Do(ctx)
	return n.Text, n.OK, err
}

// EPKCNagiosReseller is GET /kcare/nagios-res/{login}/{token}.
func (c *Client) EPKCNagiosReseller() Call[Nagios] {
	e := reads(http.MethodGet, "/kcare/nagios-res/"+url.PathEscape(c.login))
	e.Plain, e.TokenInPath = true, true
	return nagios(c, e)
}

// KCNagiosReseller checks every server of the reseller.
func (c *Client) KCNagiosReseller(ctx context.Context) (text string, ok bool, err error) {
	n, err := c.EPKCNagiosReseller().Do(ctx)
	return n.Text, n.OK, err
}

// --- Server groups --------------------------------------------------------

// EPGroupCreate is POST /group/create.json.
func (c *Client) EPGroupCreate(name, description string) Call[Group] {
	return decoded[Group](c, changes("`/cln group list`", http.MethodPost, "/group/create.json", "name", name, "description", description))
}

// GroupCreate creates a server group.
func (c *Client) GroupCreate(ctx context.Context, name, description string) (Group, error) {
	return c.EPGroupCreate(name, description).Do(ctx)
}

// EPGroupList is GET /group/list.json.
func (c *Client) EPGroupList() Call[[]Group] {
	return decoded[[]Group](c, reads(http.MethodGet, "/group/list.json"))
}

// GroupList lists the account's groups.
func (c *Client) GroupList(ctx context.Context) ([]Group, error) {
	return c.EPGroupList().Do(ctx)
}

// EPGroupServers is GET /group/servers/list.json.
func (c *Client) EPGroupServers(name string) Call[[]GroupServer] {
	return decoded[[]GroupServer](c, reads(http.MethodGet, "/group/servers/list.json", "name", name))
}

// GroupServers lists a group's servers.
func (c *Client) GroupServers(ctx context.Context, name string) ([]GroupServer, error) {
	return c.EPGroupServers(name).Do(ctx)
}

// EPGroupPut is PUT /group/servers/put.json.
func (c *Client) EPGroupPut(name string, ids []string) Call[[]GroupServer] {
	return decoded[[]GroupServer](c, changes("`/cln group servers`", http.MethodPut, "/group/servers/put.json", "name", name, "server_ids", strings.Join(ids, ",")))
}

// GroupPut adds servers to a group.
func (c *Client) GroupPut(ctx context.Context, name string, ids []string) ([]GroupServer, error) {
	return c.EPGroupPut(name, ids).Do(ctx)
}

// EPGroupRemove is DELETE /group/servers/remove.json.
func (c *Client) EPGroupRemove(name string, ids []string) Call[[]GroupServer] {
	return decoded[[]GroupServer](c, changes("`/cln group servers`", http.MethodDelete, "/group/servers/remove.json", "name", name, "server_ids", strings.Join(ids, ",")))
}

// GroupRemove takes servers out of a group (it removes nothing else).
func (c *Client) GroupRemove(ctx context.Context, name string, ids []string) ([]GroupServer, error) {
	return c.EPGroupRemove(name, ids).Do(ctx)
}

// --- CloudLinux Backups (older edition) ------------------------------------

// EPABList is GET /ab/list.json.
func (c *Client) EPABList() Call[[]Backup] {
	return decoded[[]Backup](c, reads(http.MethodGet, "/ab/list.json"))
}

// ABList lists the account's backups.
func (c *Client) ABList(ctx context.Context) ([]Backup, error) {
	return c.EPABList().Do(ctx)
}

// EPABCreate is GET /ab/im/create.json (size in GB, a multiple of ten).
func (c *Client) EPABCreate(serverID string, size int64, datacenter string) Call[Backup] {
	k := decoded[Backup](c, changes("`/cln ab list`", http.MethodGet, "/ab/im/create.json", "server_id", serverID, "size", itoa(size), "datacenter", datacenter))
	return checked(k, func() error {
		if size <= 0 || size%10 != 0 {
			return fmt.Errorf("backup size %d GB: it must be a positive multiple of ten", size)
		}
		return nil
	})
}

// ABCreate creates a backup for an Imunify360 server.
func (c *Client) ABCreate(ctx context.Context, serverID string, size int64, datacenter string) (Backup, error) {
	return c.EPABCreate(serverID, size, datacenter).Do(ctx)
}

// EPABResize is GET /ab/resize.json (delta in GB, a non-zero multiple of
// ten).
func (c *Client) EPABResize(backupID, delta int64) Call[Backup] {
	k := decoded[Backup](c, changes("`/cln ab list` (a resize takes a delta: do not repeat it blindly)", http.MethodGet, "/ab/resize.json", "backup_id", itoa(backupID), "delta", itoa(delta)))
	return checked(k, func() error {
		if delta == 0 || delta%10 != 0 {
			return fmt.Errorf("resize by %d GB: it must be a non-zero multiple of ten", delta)
		}
		return nil
	})
}

// ABResize grows (or, with a negative delta, shrinks) a backup.
func (c *Client) ABResize(ctx context.Context, backupID, delta int64) (Backup, error) {
	return c.EPABResize(backupID, delta).Do(ctx)
}

// EPABRemove is GET /ab/remove.json.
func (c *Client) EPABRemove(backupID int64) Call[Backup] {
	return decoded[Backup](c, changes("`/cln ab list`", http.MethodGet, "/ab/remove.json", "backup_id", itoa(backupID)))
}

// ABRemove removes a backup.
func (c *Client) ABRemove(ctx context.Context, backupID int64) (Backup, error) {
	return c.EPABRemove(backupID).Do(ctx)
}

// --- AccelerateWP and features (newer edition) --------------------------------

// EPAWPBilling is GET /cl/awp (no .json, no v2).
func (c *Client) EPAWPBilling(products []string, yearMonth string) Call[[]AWPEntry] {
	return decoded[[]AWPEntry](c, reads(http.MethodGet, "/cl/awp", "products", strings.Join(products, ","), "yearMonth", yearMonth))
}

// AWPBilling lists what is billable for AccelerateWP in a month (yyyy-MM).
func (c *Client) AWPBilling(ctx context.Context, products []string, yearMonth string) ([]AWPEntry, error) {
	return c.EPAWPBilling(products, yearMonth).Do(ctx)
}

// EPFeatures is GET /v2/features.
func (c *Client) EPFeatures() Call[[]Feature] {
	return decoded[[]Feature](c, reads(http.MethodGet, "/v2/features"))
}

// Features lists the supported features.
func (c *Client) Features(ctx context.Context) ([]Feature, error) {
	return c.EPFeatures().Do(ctx)
}

// EPAccountFeatures is GET /v2/features/account.
func (c *Client) EPAccountFeatures() Call[map[string]string] {
	return decoded[map[string]string](c, reads(http.MethodGet, "/v2/features/account"))
}

// AccountFeatures returns each feature's permission for the account.
func (c *Client) AccountFeatures(ctx context.Context) (map[string]string, error) {
	return c.EPAccountFeatures().Do(ctx)
}

// EPSetAccountFeatures is PATCH /v2/features/account.
func (c *Client) EPSetAccountFeatures(set map[string]string) Call[map[string]string] {
	e := changes("`/cln features account`", http.MethodPatch, "/v2/features/account")
	e.JSON = set
	return decoded[map[string]string](c, e)
}

// SetAccountFeatures changes some features' permissions (ENABLED,
// DISABLED, UNSET); the others are left alone.
func (c *Client) SetAccountFeatures(ctx context.Context, set map[string]string) (map[string]string, error) {
	return c.EPSetAccountFeatures(set).Do(ctx)
}
