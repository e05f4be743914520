package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

func required(w http.ResponseWriter, q map[string][]string, names ...string) bool {
	for _, n := range names {
		if get(q, n) == "" {
			fail(w, fmt.Sprintf("Parameter '%s' is required", n))
			return false
		}
	}
	return true
}

func intParam(w http.ResponseWriter, q map[string][]string, name string) (int64, bool) {
	n, err := strconv.ParseInt(get(q, name), 10, 64)
	if err != nil {
		fail(w, fmt.Sprintf("Parameter '%s' must be a number", name))
		return 0, false
	}
	return n, true
}

func methodIs(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	for _, m := range allowed {
		if r.Method == m {
			return true
		}
	}
	w.WriteHeader(http.StatusMethodNotAllowed)
	fail(w, "Method "+r.Method+" is not allowed here")
	return false
}

var clProducts = map[string]bool{"CL": true, "CLP": true, "CLS": true, "CLADMIN": true}

// --- v2 CloudLinux ---------------------------------------------------------

func (s *Server) clKeys(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	switch r.Method {
	case http.MethodGet:
		if !required(w, q, "productType") {
			return false
		}
		out := []*CLKey{}
		for _, k := range s.st.CLKeys {
			if strings.EqualFold(k.ProductType, get(q, "productType")) {
				out = append(out, k)
			}
		}
		bare(w, out)
	case http.MethodPost:
		if !required(w, q, "productType", "limit") {
			return false
		}
		p := strings.ToUpper(get(q, "productType"))
		if !clProducts[p] {
			fail(w, "Unknown productType "+get(q, "productType"))
			return false
		}
		limit, good := intParam(w, q, "limit")
		if !good {
			return false
		}
		k := &CLKey{Key: strings.ToLower(s.id("cl")), ProductType: strings.ToLower(p), UsageLimit: limit, Description: get(q, "note")}
		s.st.CLKeys = append(s.st.CLKeys, k)
		bare(w, k)
		return true
	case http.MethodPatch:
		if !required(w, q, "key", "limit") {
			return false
		}
		limit, good := intParam(w, q, "limit")
		if !good {
			return false
		}
		for _, k := range s.st.CLKeys {
			if k.Key == get(q, "key") {
				k.UsageLimit = limit
				if _, has := q["note"]; has {
					k.Description = get(q, "note")
				}
				bare(w, k)
				return true
			}
		}
		fail(w, "Key not found")
	case http.MethodDelete:
		if !required(w, q, "key") {
			return false
		}
		for i, k := range s.st.CLKeys {
			if k.Key == get(q, "key") {
				s.st.CLKeys = append(s.st.CLKeys[:i], s.st.CLKeys[i+1:]...)
				bare(w, map[string]string{"key": k.Key})
				return true
			}
		}
		fail(w, "Key not found")
	default:
		methodIs(w, r)
	}
	return false
}

func (s *Server) clServers(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	switch r.Method {
	case http.MethodGet:
		if !required(w, q, "productType") {
			return false
		}
		out := []*CLServer{}
		for _, sv := range s.st.CLServers {
			if strings.EqualFold(sv.ProductType, get(q, "productType")) {
				out = append(out, sv)
			}
		}
		bare(w, out)
	case http.MethodDelete:
		id, good := intParam(w, q, "id")
		if !good {
			return false
		}
		for i, sv := range s.st.CLServers {
			if sv.ID == id {
				s.st.CLServers = append(s.st.CLServers[:i], s.st.CLServers[i+1:]...)
				bare(w, sv)
				return true
			}
		}
		fail(w, "Server not found")
	default:
		methodIs(w, r)
	}
	return false
}

func (s *Server) clSubServers(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	bare(w, s.st.SubServers)
	return false
}

// --- ELS -------------------------------------------------------------------

// elsProduct reads the product by either edition's name.
func elsProduct(q map[string][]string) string {
	if p := get(q, "productType"); p != "" {
		return p
	}
	return get(q, "code")
}

func (s *Server) elsKeyCreate(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !methodIs(w, r, http.MethodPost, http.MethodGet) {
		return false
	}
	p := elsProduct(q)
	if p == "" || get(q, "limit") == "" {
		fail(w, "Parameters 'productType' (or 'code') and 'limit' are required")
		return false
	}
	if _, good := intParam(w, q, "limit"); !good {
		return false
	}
	k := &ELSKey{Key: p + "-" + s.id("k"), ProductCode: p, UsageLimit: get(q, "limit"), Description: get(q, "note")}
	s.st.ELSKeys = append(s.st.ELSKeys, k)
	ok(w, k)
	return true
}

func (s *Server) elsKey(key string) *ELSKey {
	for _, k := range s.st.ELSKeys {
		if k.Key == key {
			return k
		}
	}
	return nil
}

func (s *Server) elsKeyUpdate(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !methodIs(w, r, http.MethodPut, http.MethodGet) || !required(w, q, "key", "limit") {
		return false
	}
	if _, good := intParam(w, q, "limit"); !good {
		return false
	}
	k := s.elsKey(get(q, "key"))
	if k == nil {
		fail(w, "Key not found")
		return false
	}
	k.UsageLimit = get(q, "limit")
	if _, has := q["note"]; has {
		k.Description = get(q, "note")
	}
	ok(w, k)
	return true
}

func (s *Server) elsKeyRemove(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !methodIs(w, r, http.MethodDelete, http.MethodGet) || !required(w, q, "key") {
		return false
	}
	key := get(q, "key")
	if s.elsKey(key) == nil {
		fail(w, "Key not found")
		return false
	}
	removed := []map[string]string{{"key": key}}
	keep := s.st.ELSServers[:0]
	for _, sv := range s.st.ELSServers {
		if sv.Key != key {
			keep = append(keep, sv)
		}
	}
	s.st.ELSServers = keep
	for i, k := range s.st.ELSKeys {
		if k.Key == key {
			s.st.ELSKeys = append(s.st.ELSKeys[:i], s.st.ELSKeys[i+1:]...)
			break
		}
	}
	ok(w, removed)
	return true
}

func (s *Server) elsKeyList(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	p := elsProduct(q)
	out := []*ELSKey{}
	for _, k := range s.st.ELSKeys {
		if p == "" || strings.EqualFold(k.ProductCode, p) {
			out = append(out, k)
		}
	}
	ok(w, out)
	return false
}

func (s *Server) elsServerList(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	p, key := elsProduct(q), get(q, "key")
	out := []*ELSServer{}
	for _, sv := range s.st.ELSServers {
		if (p == "" || strings.EqualFold(sv.Product, p)) && (key == "" || sv.Key == key) {
			out = append(out, sv)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastCheckin > out[j].LastCheckin })
	ok(w, out)
	return false
}

func (s *Server) elsServerRemove(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !methodIs(w, r, http.MethodDelete, http.MethodGet) || !required(w, q, "id") {
		return false
	}
	for i, sv := range s.st.ELSServers {
		if sv.ID == get(q, "id") {
			s.st.ELSServers = append(s.st.ELSServers[:i], s.st.ELSServers[i+1:]...)
			ok(w, sv)
			return true
		}
	}
	fail(w, "Server not found")
	return false
}

// --- Imunify -----------------------------------------------------------------

var imCodes = map[string]bool{"AVP": true, "360_1": true, "360_30": true, "360_250": true, "360_UN": true}

func (s *Server) imKey(key string) *IMKey {
	for _, k := range s.st.IMKeys {
		if k.Key == key {
			return k
		}
	}
	return nil
}

func (s *Server) imServers(key string) int {
	n := 0
	for _, sv := range s.st.IMServers {
		if sv.Key == key {
			n++
		}
	}
	return n
}

func (s *Server) imView(k *IMKey) map[string]string {
	return map[string]string{"key": k.Key, "limit": k.Limit, "code": k.Code, "servers": strconv.Itoa(s.imServers(k.Key))}
}

func (s *Server) imKeyCreate(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !required(w, q, "code", "limit") {
		return false
	}
	if !imCodes[get(q, "code")] {
		fail(w, "Unknown Imunify code "+get(q, "code"))
		return false
	}
	if _, good := intParam(w, q, "limit"); !good {
		return false
	}
	k := &IMKey{Key: "IM" + s.id(""), Limit: get(q, "limit"), Code: get(q, "code"), Note: get(q, "note")}
	s.st.IMKeys = append(s.st.IMKeys, k)
	ok(w, map[string]string{"key": k.Key, "limit": k.Limit, "code": k.Code})
	return true
}

func (s *Server) imKeyUpdate(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !required(w, q, "key") {
		return false
	}
	k := s.imKey(get(q, "key"))
	if k == nil {
		fail(w, "Key not found")
		return false
	}
	if v := get(q, "limit"); v != "" {
		if _, good := intParam(w, q, "limit"); !good {
			return false
		}
		k.Limit = v
	}
	if _, has := q["note"]; has {
		k.Note = get(q, "note")
	}
	ok(w, s.imView(k))
	return true
}

func (s *Server) imKeyRemove(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !required(w, q, "key") {
		return false
	}
	key := get(q, "key")
	if s.imKey(key) == nil {
		fail(w, "Key not found")
		return false
	}
	removed := []map[string]string{}
	keep := s.st.IMServers[:0]
	for _, sv := range s.st.IMServers {
		if sv.Key == key {
			removed = append(removed, map[string]string{"id": sv.ID, "key": key})
		} else {
			keep = append(keep, sv)
		}
	}
	s.st.IMServers = keep
	for i, k := range s.st.IMKeys {
		if k.Key == key {
			s.st.IMKeys = append(s.st.IMKeys[:i], s.st.IMKeys[i+1:]...)
			break
		}
	}
	ok(w, removed)
	return true
}

func (s *Server) imKeyList(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	out := []map[string]string{}
	for _, k := range s.st.IMKeys {
		out = append(out, s.imView(k))
	}
	ok(w, out)
	return false
}

func (s *Server) imServerList(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !required(w, q, "key") {
		return false
	}
	out := []*IMServer{}
	for _, sv := range s.st.IMServers {
		if sv.Key == get(q, "key") {
			out = append(out, sv)
		}
	}
	ok(w, out)
	return false
}

func (s *Server) imServerRemove(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !required(w, q, "id") {
		return false
	}
	for i, sv := range s.st.IMServers {
		if sv.ID == get(q, "id") {
			s.st.IMServers = append(s.st.IMServers[:i], s.st.IMServers[i+1:]...)
			ok(w, map[string]string{"id": sv.ID, "key": sv.Key})
			return true
		}
	}
	fail(w, "Server not found")
	return false
}

func (s *Server) imServerConvert(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !required(w, q, "id", "key") {
		return false
	}
	if s.imKey(get(q, "key")) == nil {
		fail(w, "Target key not found")
		return false
	}
	for _, sv := range s.st.IMServers {
		if sv.ID == get(q, "id") {
			sv.Key = get(q, "key")
			ok(w, map[string]string{"id": sv.ID, "key": sv.Key})
			return true
		}
	}
	fail(w, "Server not found")
	return false
}

// --- IP licences -----------------------------------------------------------------

// IPLTypes are the licence types the newer reference lists.
var IPLTypes = []int{1, 1002, 4, 5, 3, 16, 17, 40, 41, 44, 42, 43, 49, 5017, 5018, 5005, 5003, 5004, 5019, 5020, 5034, 5011, 5012, 5013, 5014, 7215, 5035}

func validType(t int) bool {
	for _, x := range IPLTypes {
		if x == t {
			return true
		}
	}
	return false
}

func (s *Server) iplOn(ip string) []*IPLicense {
	var out []*IPLicense
	for _, l := range s.st.IPL {
		if l.IP == ip {
			out = append(out, l)
		}
	}
	return out
}

func validIP(w http.ResponseWriter, q map[string][]string) (string, bool) {
	ip := get(q, "ip")
	if net.ParseIP(ip) == nil {
		fail(w, "Invalid IP address: "+ip)
		return "", false
	}
	return ip, true
}

func (s *Server) iplAvailability(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	ip, good := validIP(w, q)
	if !good {
		return false
	}
	taken := map[int]bool{}
	owned := []int{}
	for _, l := range s.iplOn(ip) {
		taken[l.Type] = true
		if l.Owner == "" {
			owned = append(owned, l.Type)
		}
	}
	available := []int{}
	for _, t := range []int{1, 41, 42, 43, 49, 16, 17, 40} {
		if !taken[t] {
			available = append(available, t)
		}
	}
	ok(w, map[string][]int{"available": available, "owned": owned})
	return false
}

func (s *Server) iplCheck(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	ip, good := validIP(w, q)
	if !good {
		return false
	}
	types := []int{}
	for _, l := range s.iplOn(ip) {
		types = append(types, l.Type)
	}
	ok(w, types)
	return false
}

func view(l *IPLicense, withServer bool) map[string]any {
	v := map[string]any{"ip": l.IP, "type": l.Type, "registered": l.Registered, "created": l.Created}
	if withServer {
		v["server_info"] = l.ServerInfo
		v["last_checkin"] = l.LastCheckin
	}
	return v
}

func (s *Server) iplRegister(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	ip, good := validIP(w, q)
	if !good || !required(w, q, "type") {
		return false
	}
	t, err := strconv.Atoi(get(q, "type"))
	if err != nil || !validType(t) {
		fail(w, "Invalid license type "+get(q, "type"))
		return false
	}
	for _, l := range s.iplOn(ip) {
		if l.Type == t {
			if l.Owner != "" {
				fail(w, fmt.Sprintf("IP %s already has a type %d license registered by another customer", ip, t))
				return false
			}
			ok(w, view(l, false)) // already registered: returned as is
			return false
		}
	}
	l := &IPLicense{IP: ip, Type: t, Created: s.stamp(), ElsAllowed: get(q, "els_allowed") == "true"}
	s.st.IPL = append(s.st.IPL, l)
	ok(w, view(l, false))
	return true
}

func (s *Server) owned(ip string, t int) *IPLicense {
	for _, l := range s.st.IPL {
		if l.IP == ip && l.Type == t && l.Owner == "" {
			return l
		}
	}
	return nil
}

func (s *Server) iplConvert(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	ip, good := validIP(w, q)
	if !good || !required(w, q, "type", "type_to") {
		return false
	}
	from, _ := strconv.Atoi(get(q, "type"))
	to, _ := strconv.Atoi(get(q, "type_to"))
	l := s.owned(ip, from)
	imunify := map[int]bool{40: true, 41: true, 42: true, 43: true, 44: true, 49: true}
	if l == nil || !imunify[from] || !imunify[to] {
		ok(w, false) // not found, not owned, or not an Imunify licence
		return false
	}
	l.Type = to
	ok(w, true)
	return true
}

func (s *Server) iplRemove(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	ip, good := validIP(w, q)
	if !good {
		return false
	}
	t := get(q, "type")
	removed := false
	keep := s.st.IPL[:0]
	for _, l := range s.st.IPL {
		// Faithful to the reference: without a type, every owned licence
		// on the IP goes.
		if l.IP == ip && l.Owner == "" && (t == "" || strconv.Itoa(l.Type) == t) {
			removed = true
			continue
		}
		keep = append(keep, l)
	}
	s.st.IPL = keep
	ok(w, removed)
	return removed
}

func (s *Server) iplList(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	out := []map[string]any{}
	for _, l := range s.st.IPL {
		if l.Owner == "" {
			out = append(out, view(l, false))
		}
	}
	ok(w, out)
	return false
}

func (s *Server) iplServer(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !required(w, q, "ip") {
		return false
	}
	ips := strings.Split(get(q, "ip"), ",")
	if len(ips) > 100 {
		fail(w, "At most 100 IP addresses may be given")
		return false
	}
	out := []map[string]any{}
	for _, ip := range ips {
		for _, l := range s.iplOn(strings.TrimSpace(ip)) {
			if l.Owner == "" {
				out = append(out, view(l, true))
			}
		}
	}
	ok(w, out)
	return false
}

func (s *Server) iplUpdate(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	ip, good := validIP(w, q)
	if !good {
		return false
	}
	t := get(q, "type")
	changed := false
	for _, l := range s.st.IPL {
		if l.IP == ip && l.Owner == "" && (t == "" || strconv.Itoa(l.Type) == t) {
			l.ElsAllowed = get(q, "els_allowed") == "true"
			changed = true
		}
	}
	ok(w, changed)
	return changed
}

// --- KernelCare ------------------------------------------------------------------

func (s *Server) kcKey(key string) *KCKey {
	for _, k := range s.st.KCKeys {
		if k.Key == key {
			return k
		}
	}
	return nil
}

func (s *Server) kcKeyCreate(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !required(w, q, "limit") {
		return false
	}
	limit, good := intParam(w, q, "limit")
	if !good {
		return false
	}
	if len([]rune(get(q, "note"))) > 100 {
		fail(w, "Note is longer than 100 characters")
		return false
	}
	k := &KCKey{Key: "Kc" + s.id("") + "x9Qz", Enabled: true, Created: s.stamp(), Limit: limit, Note: get(q, "note")}
	s.st.KCKeys = append(s.st.KCKeys, k)
	ok(w, k.Key)
	return true
}

func (s *Server) kcKeyDelete(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !required(w, q, "key") {
		return false
	}
	for i, k := range s.st.KCKeys {
		if k.Key == get(q, "key") {
			s.st.KCKeys = append(s.st.KCKeys[:i], s.st.KCKeys[i+1:]...)
			keep := s.st.KCServers[:0]
			for _, sv := range s.st.KCServers {
				if sv.Key != k.Key {
					keep = append(keep, sv)
				}
			}
			s.st.KCServers = keep
			ok(w, true)
			return true
		}
	}
	ok(w, false)
	return false
}

func (s *Server) kcKeyList(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	out := []map[string]any{}
	for _, k := range s.st.KCKeys {
		out = append(out, map[string]any{"key": k.Key, "enabled": k.Enabled, "created": k.Created, "limit": k.Limit, "note": k.Note})
	}
	ok(w, out)
	return false
}

func (s *Server) kcKeyServers(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !required(w, q, "key") {
		return false
	}
	out := []map[string]string{}
	for _, sv := range s.st.KCServers {
		if sv.Key == get(q, "key") {
			out = append(out, map[string]string{"server_id": sv.ServerID, "ip": sv.IP, "created": sv.Created, "last_checkin": sv.LastCheckin})
		}
	}
	ok(w, out)
	return false
}

func (s *Server) kcSetCIDR(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !required(w, q, "key", "cidr") {
		return false
	}
	k := s.kcKey(get(q, "key"))
	if k == nil {
		fail(w, "Key not found")
		return false
	}
	var cidrs []string
	for _, c := range strings.FieldsFunc(get(q, "cidr"), func(r rune) bool { return r == ' ' || r == ',' || r == ';' }) {
		addr, bits, found := strings.Cut(c, "/")
		if net.ParseIP(addr) == nil {
			ok(w, map[string]int{"code": 1})
			return false
		}
		n, err := strconv.Atoi(bits)
		if !found || err != nil || n < 0 || n > 128 || strings.Contains(addr, ".") && n > 32 {
			ok(w, map[string]int{"code": 2})
			return false
		}
		cidrs = append(cidrs, c)
	}
	k.CIDRs = cidrs
	ok(w, map[string]int{"code": 0})
	return true
}

func (s *Server) kcServerRemove(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !required(w, q, "server_id") {
		return false
	}
	for i, sv := range s.st.KCServers {
		if sv.ServerID == get(q, "server_id") {
			s.st.KCServers = append(s.st.KCServers[:i], s.st.KCServers[i+1:]...)
			okMsg(w, "", map[string]string{"server_id": sv.ServerID, "key": sv.Key})
			return true
		}
	}
	// The reference's false success: success with null data.
	okMsg(w, "Server not found", nil)
	return false
}

func (s *Server) nagiosKey(w http.ResponseWriter, keyID string) {
	w.Header().Set("Content-Type", "text/plain")
	key, found := s.st.Monitoring[keyID]
	if !found {
		key = keyID
	}
	var stale []string
	total := 0
	for _, sv := range s.st.KCServers {
		if sv.Key == key {
			total++
			if !sv.UpToDate {
				stale = append(stale, sv.ServerID)
			}
		}
	}
	if total == 0 {
		fmt.Fprint(w, "KernelCare UNKNOWN - no servers registered with this key")
		return
	}
	if len(stale) > 0 {
		fmt.Fprintf(w, "KernelCare CRITICAL - %d server(s) out of date: %s", len(stale), strings.Join(stale, ", "))
		return
	}
	fmt.Fprint(w, "KernelCare OK - all servers are up to date!")
}

func (s *Server) nagiosAll(w http.ResponseWriter) {
	var stale []string
	for _, sv := range s.st.KCServers {
		if !sv.UpToDate {
			stale = append(stale, sv.ServerID)
		}
	}
	if len(stale) > 0 {
		fmt.Fprintf(w, "KernelCare CRITICAL - %d server(s) out of date: %s", len(stale), strings.Join(stale, ", "))
		return
	}
	fmt.Fprint(w, "KernelCare OK - all servers are up to date!")
}

// --- Groups --------------------------------------------------------------------------

func (s *Server) group(name string) *Group {
	for _, g := range s.st.Groups {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// groupable finds an Imunify or KernelCare server by id.
func (s *Server) groupable(id string) (map[string]string, bool) {
	for _, sv := range s.st.IMServers {
		if sv.ID == id {
			return map[string]string{"id": id, "hostName": sv.IP, "ip": sv.IP, "type": "IMUNIFY"}, true
		}
	}
	for _, sv := range s.st.KCServers {
		if sv.ServerID == id {
			return map[string]string{"id": id, "hostName": sv.IP, "ip": sv.IP, "type": "KERNELCARE"}, true
		}
	}
	return nil, false
}

func (s *Server) groupCreate(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !methodIs(w, r, http.MethodPost) || !required(w, q, "name") {
		return false
	}
	if s.group(get(q, "name")) != nil {
		fail(w, "Group already exists: "+get(q, "name"))
		return false
	}
	g := &Group{Name: get(q, "name"), Description: get(q, "description"), Servers: []string{}}
	s.st.Groups = append(s.st.Groups, g)
	okMsg(w, "", map[string]string{"name": g.Name, "description": g.Description})
	return true
}

func (s *Server) groupList(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	out := []map[string]string{}
	for _, g := range s.st.Groups {
		out = append(out, map[string]string{"name": g.Name, "description": g.Description})
	}
	okMsg(w, "", out)
	return false
}

func (s *Server) groupServers(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !required(w, q, "name") {
		return false
	}
	g := s.group(get(q, "name"))
	if g == nil {
		fail(w, "Group not found: "+get(q, "name"))
		return false
	}
	out := []map[string]string{}
	for _, id := range g.Servers {
		if v, found := s.groupable(id); found {
			out = append(out, v)
		}
	}
	okMsg(w, "", out)
	return false
}

func (s *Server) groupPut(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !methodIs(w, r, http.MethodPut) || !required(w, q, "name", "server_ids") {
		return false
	}
	g := s.group(get(q, "name"))
	if g == nil {
		fail(w, "Group not found: "+get(q, "name"))
		return false
	}
	out := []map[string]string{}
	for _, id := range strings.Split(get(q, "server_ids"), ",") {
		v, found := s.groupable(strings.TrimSpace(id))
		if !found {
			fail(w, "Server not found: "+id)
			return false
		}
		out = append(out, v)
	}
	for _, v := range out {
		present := false
		for _, x := range g.Servers {
			present = present || x == v["id"]
		}
		if !present {
			g.Servers = append(g.Servers, v["id"])
		}
	}
	okMsg(w, "", out)
	return true
}

func (s *Server) groupRemove(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !methodIs(w, r, http.MethodDelete) || !required(w, q, "name", "server_ids") {
		return false
	}
	g := s.group(get(q, "name"))
	if g == nil {
		fail(w, "Group not found: "+get(q, "name"))
		return false
	}
	out := []map[string]string{}
	for _, id := range strings.Split(get(q, "server_ids"), ",") {
		id = strings.TrimSpace(id)
		for i, x := range g.Servers {
			if x == id {
				g.Servers = append(g.Servers[:i], g.Servers[i+1:]...)
				if v, found := s.groupable(id); found {
					out = append(out, v)
				}
				break
			}
		}
	}
	okMsg(w, "", out)
	return len(out) > 0
}

// --- Backups ---------------------------------------------------------------------------

func (s *Server) abList(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	ok(w, append([]*Backup{}, s.st.Backups...))
	return false
}

func (s *Server) abCreate(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !required(w, q, "server_id", "size", "datacenter") {
		return false
	}
	size, good := intParam(w, q, "size")
	if !good {
		return false
	}
	if size <= 0 || size%10 != 0 {
		fail(w, "Size must be a positive multiple of ten")
		return false
	}
	s.st.NextID++
	b := &Backup{ServerID: get(q, "server_id"), Size: size, BackupID: s.st.NextID, Datacenter: get(q, "datacenter")}
	s.st.Backups = append(s.st.Backups, b)
	ok(w, b)
	return true
}

func (s *Server) backup(w http.ResponseWriter, q map[string][]string) (int, *Backup) {
	id, good := intParam(w, q, "backup_id")
	if !good {
		return -1, nil
	}
	for i, b := range s.st.Backups {
		if b.BackupID == id {
			return i, b
		}
	}
	fail(w, "Backup not found")
	return -1, nil
}

func (s *Server) abResize(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	delta, good := intParam(w, q, "delta")
	if !good {
		return false
	}
	if delta == 0 || delta%10 != 0 {
		fail(w, "Delta must be a non-zero multiple of ten")
		return false
	}
	_, b := s.backup(w, q)
	if b == nil {
		return false
	}
	if b.Size+delta <= 0 {
		fail(w, "A backup cannot shrink to nothing; remove it instead")
		return false
	}
	b.Size += delta
	ok(w, b)
	return true
}

func (s *Server) abRemove(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	i, b := s.backup(w, q)
	if b == nil {
		return false
	}
	s.st.Backups = append(s.st.Backups[:i], s.st.Backups[i+1:]...)
	ok(w, b)
	return true
}

// --- AccelerateWP and features ------------------------------------------------------------

func (s *Server) awp(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	if !required(w, q, "products", "yearMonth") {
		return false
	}
	want := map[string]bool{}
	for _, p := range strings.Split(get(q, "products"), ",") {
		if p != "AWP_PREMIUM" && p != "AWP_CDN" {
			fail(w, "Unknown product "+p)
			return false
		}
		want[p] = true
	}
	out := []AWPEntry{}
	for _, e := range s.st.AWP[get(q, "yearMonth")] {
		if want[e.Product] {
			out = append(out, e)
		}
	}
	bare(w, out)
	return false
}

func (s *Server) features(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	bare(w, []map[string]any{{"feature_id": 4600, "applicable_product_ids": []int{1, 2, 3}}})
	return false
}

func (s *Server) accountFeatures(w http.ResponseWriter, r *http.Request, q map[string][]string) bool {
	switch r.Method {
	case http.MethodGet:
		bare(w, s.st.Features)
	case http.MethodPatch:
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var set map[string]string
		if err := json.Unmarshal(body, &set); err != nil {
			fail(w, "The body must be a JSON object of feature ids to ENABLED, DISABLED or UNSET")
			return false
		}
		for id, v := range set {
			if v != "ENABLED" && v != "DISABLED" && v != "UNSET" {
				fail(w, fmt.Sprintf("Feature %s: %q is not ENABLED, DISABLED or UNSET", id, v))
				return false
			}
		}
		for id, v := range set {
			s.st.Features[id] = v
		}
		bare(w, s.st.Features)
		return true
	default:
		methodIs(w, r)
	}
	return false
}
