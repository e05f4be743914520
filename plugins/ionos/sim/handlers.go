package sim

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"time"
)

func toMap(v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func (s *Server) serverJSON(v *VM) map[string]any {
	m := map[string]any{
		"id": v.ID, "cloudpanel_id": v.CloudpanelID, "name": v.Name, "description": v.Description, "server_type": v.ServerType,
		"datacenter": v.Datacenter, "creation_date": v.CreationDate, "first_password": v.FirstPassword, "ssh_password": true,
		"status":   map[string]any{"state": v.State, "percent": v.Percent},
		"hardware": v.Hardware, "image": v.Image, "dvd": v.DVD, "snapshot": v.Snapshot, "ips": v.IPs,
		"alerts": nil, "monitoring_policy": nil, "private_networks": []any{},
	}
	return toMap(m)
}

func notFound(what string) (int, any) {
	return http.StatusNotFound, apiErr(strings.ToUpper(what)+"_NOT_FOUND", strings.ToUpper(what[:1])+strings.ReplaceAll(what[1:], "_", " ")+" not found")
}

// withVM finds the request's server.
func (s *Server) withVM(f func(r *req, v *VM) (int, any)) handler {
	return func(r *req) (int, any) {
		v := s.vm(r.vars["server_id"])
		if v == nil {
			return notFound("server")
		}
		return f(r, v)
	}
}

// changing refuses work on a server that is busy.
func (s *Server) changing(f func(r *req, v *VM) (int, any)) handler {
	return s.withVM(func(r *req, v *VM) (int, any) {
		if v.Action != nil {
			return busy(v)
		}
		return f(r, v)
	})
}

func str(m map[string]any, k string) string {
	v, _ := m[k].(string)
	return v
}

// handlers are the operations served from the state, by family.
func (s *Server) handlers() map[string]handler {
	h := map[string]handler{}
	for _, family := range []map[string]handler{s.serverHandlers(), s.configHandlers(), s.deviceHandlers(), s.snapshotHandlers(), s.accountHandlers()} {
		maps.Copy(h, family)
	}
	return h
}

// serverHandlers serve the servers themselves and their power.
func (s *Server) serverHandlers() map[string]handler {
	return map[string]handler{
		"list servers": func(r *req) (int, any) {
			out := []map[string]any{}
			for _, v := range s.st.Servers {
				out = append(out, s.serverJSON(v))
			}
			return 200, out
		},
		"get servers": s.withVM(func(r *req, v *VM) (int, any) { return 200, s.serverJSON(v) }),
		"put servers": s.withVM(func(r *req, v *VM) (int, any) {
			if n := str(r.body, "name"); n != "" {
				v.Name = n
			}
			if d, ok := r.body["description"].(string); ok {
				v.Description = d
			}
			return 200, s.serverJSON(v)
		}),
		"delete servers": s.changing(func(r *req, v *VM) (int, any) {
			s.start(v, "REMOVED", "remove", "REMOVING")
			if r.query.Get("keep_ips") != "true" {
				for _, ip := range v.IPs {
					s.dropPublicIP(ip.ID)
				}
			}
			return 202, s.serverJSON(v)
		}),
		"get servers status": s.withVM(func(r *req, v *VM) (int, any) {
			return 200, map[string]any{"state": v.State, "percent": v.Percent}
		}),
		"put servers status action": s.changing(func(r *req, v *VM) (int, any) {
			action, method := str(r.body, "action"), str(r.body, "method")
			if v.ServerType == "cloud" && action != "POWER_ON" && method == "" {
				return 400, apiErr("INVALID_PARAMETERS", "method is required for cloud servers")
			}
			switch action {
			case "POWER_ON":
				if v.State == "POWERED_ON" {
					return 400, apiErr("INVALID_STATE", "The server is already powered on")
				}
				s.start(v, "POWERED_ON", "", "POWERING_ON")
			case "POWER_OFF":
				if v.State == "POWERED_OFF" {
					return 400, apiErr("INVALID_STATE", "The server is already powered off")
				}
				s.start(v, "POWERED_OFF", "", "POWERING_OFF")
			case "REBOOT":
				if v.State == "POWERED_OFF" {
					return 400, apiErr("INVALID_STATE", "The server is powered off; power it on instead")
				}
				s.start(v, "POWERED_ON", "", "POWERING_OFF", "POWERING_ON")
			}
			return 202, s.serverJSON(v)
		}),
	}
}

// configHandlers serve a server's hardware and image.
func (s *Server) configHandlers() map[string]handler {
	return map[string]handler{
		"get servers hardware": s.withVM(func(r *req, v *VM) (int, any) { return 200, toMap(v.Hardware) }),
		"put servers hardware": s.changing(func(r *req, v *VM) (int, any) {
			if id := str(r.body, "fixed_instance_size_id"); id != "" {
				v.Hardware.FixedInstanceSizeID = &id
			}
			if n, ok := r.body["vcore"].(float64); ok {
				v.Hardware.Vcore = int(n)
			}
			if n, ok := r.body["cores_per_processor"].(float64); ok {
				v.Hardware.CoresPerProcessor = int(n)
			}
			if n, ok := r.body["ram"].(float64); ok {
				v.Hardware.RAM = n
			}
			s.start(v, v.State, "", "CONFIGURING")
			return 202, s.serverJSON(v)
		}),
		"get servers image": s.withVM(func(r *req, v *VM) (int, any) { return 200, v.Image }),
		"put servers image": s.changing(func(r *req, v *VM) (int, any) {
			id := str(r.body, "id")
			name, ok := s.st.Images[id]
			if !ok {
				return notFound("image")
			}
			v.Image = Ref{ID: id, Name: name}
			if pw := str(r.body, "password"); pw != "" {
				v.FirstPassword = pw
			}
			s.start(v, "POWERED_ON", "", "CONFIGURING", "DEPLOYING")
			return 202, s.serverJSON(v)
		}),
	}
}

// deviceHandlers serve a server's IPs and DVD drive.
func (s *Server) deviceHandlers() map[string]handler {
	return map[string]handler{
		"list servers ips": s.withVM(func(r *req, v *VM) (int, any) {
			out := []map[string]any{}
			for _, ip := range v.IPs {
				out = append(out, toMap(ip))
			}
			return 200, out
		}),
		"get servers ips": s.withVM(func(r *req, v *VM) (int, any) {
			for _, ip := range v.IPs {
				if ip.ID == r.vars["ip_id"] {
					return 200, toMap(ip)
				}
			}
			return notFound("ip")
		}),
		"get servers ips firewall_policy": s.withVM(func(r *req, v *VM) (int, any) {
			for _, ip := range v.IPs {
				if ip.ID == r.vars["ip_id"] {
					if ip.FirewallPolicy == nil {
						return 200, map[string]any{}
					}
					return 200, ip.FirewallPolicy
				}
			}
			return notFound("ip")
		}),
		"get servers dvd": s.withVM(func(r *req, v *VM) (int, any) {
			if v.DVD == nil {
				return 200, map[string]any{}
			}
			return 200, v.DVD
		}),
		"put servers dvd": s.changing(func(r *req, v *VM) (int, any) {
			id := str(r.body, "id")
			name, ok := s.st.DVDs[id]
			if !ok {
				return notFound("dvd")
			}
			v.DVD = &Ref{ID: id, Name: name}
			s.start(v, v.State, "", "CONFIGURING")
			return 202, s.serverJSON(v)
		}),
		"delete servers dvd": s.changing(func(r *req, v *VM) (int, any) {
			if v.DVD == nil {
				return 400, apiErr("INVALID_STATE", "No DVD is mounted")
			}
			v.DVD = nil
			s.start(v, v.State, "", "CONFIGURING")
			return 202, s.serverJSON(v)
		}),
	}
}

// snapshotHandlers serve a server's snapshot.
func (s *Server) snapshotHandlers() map[string]handler {
	return map[string]handler{
		"get servers snapshots": s.withVM(func(r *req, v *VM) (int, any) {
			if v.Snapshot == nil {
				return 200, []any{}
			}
			return 200, []any{v.Snapshot}
		}),
		"post servers snapshots": s.changing(func(r *req, v *VM) (int, any) {
			if v.Snapshot != nil {
				return 400, apiErr("INVALID_STATE", "The server already has a snapshot; delete it first")
			}
			s.start(v, v.State, "snapshot", "CONFIGURING")
			return 202, s.serverJSON(v)
		}),
		"put servers snapshots": s.changing(func(r *req, v *VM) (int, any) {
			if v.Snapshot == nil || v.Snapshot.ID != r.vars["snapshot_id"] {
				return notFound("snapshot")
			}
			s.start(v, v.State, "", "CONFIGURING")
			return 202, s.serverJSON(v)
		}),
		"delete servers snapshots": s.changing(func(r *req, v *VM) (int, any) {
			if v.Snapshot == nil || v.Snapshot.ID != r.vars["snapshot_id"] {
				return notFound("snapshot")
			}
			v.Snapshot = nil
			s.start(v, v.State, "", "CONFIGURING")
			return 202, s.serverJSON(v)
		}),
	}
}

// accountHandlers serve the account's public IPs and firewall policies, and the key check.
func (s *Server) accountHandlers() map[string]handler {
	return map[string]handler{
		"list public_ips": func(r *req) (int, any) {
			out := []map[string]any{}
			for _, p := range s.st.PublicIPs {
				out = append(out, toMap(p))
			}
			return 200, out
		},
		"get public_ips": func(r *req) (int, any) {
			if p := s.publicIP(r.vars["ip_id"]); p != nil {
				return 200, toMap(p)
			}
			return notFound("ip")
		},
		"put public_ips": func(r *req) (int, any) {
			p := s.publicIP(r.vars["ip_id"])
			if p == nil {
				return notFound("ip")
			}
			if rd, ok := r.body["reverse_dns"].(string); ok {
				if rd == "" {
					p.ReverseDNS = nil
				} else {
					p.ReverseDNS = &rd
				}
				for _, v := range s.st.Servers {
					for _, ip := range v.IPs {
						if ip.ID == p.ID {
							ip.ReverseDNS = rd
						}
					}
				}
			}
			return 202, toMap(p)
		},
		"list firewall_policies": func(r *req) (int, any) {
			out := []map[string]any{}
			for _, f := range s.st.Firewalls {
				out = append(out, s.firewallJSON(f))
			}
			return 200, out
		},
		"get firewall_policies": func(r *req) (int, any) {
			if f := s.firewall(r.vars["firewall_id"]); f != nil {
				return 200, s.firewallJSON(f)
			}
			return notFound("firewall_policy")
		},
		"list firewall_policies rules": func(r *req) (int, any) {
			f := s.firewall(r.vars["firewall_id"])
			if f == nil {
				return notFound("firewall_policy")
			}
			out := []map[string]any{}
			for _, rule := range f.Rules {
				out = append(out, toMap(rule))
			}
			return 200, out
		},
		"get ping_auth": func(r *req) (int, any) { return 200, []string{"PONG"} },
	}
}

func (s *Server) publicIP(id string) *PublicIP {
	for _, p := range s.st.PublicIPs {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func (s *Server) dropPublicIP(id string) {
	for i, p := range s.st.PublicIPs {
		if p.ID == id {
			s.st.PublicIPs = append(s.st.PublicIPs[:i], s.st.PublicIPs[i+1:]...)
			return
		}
	}
}

func (s *Server) firewall(id string) *Firewall {
	for _, f := range s.st.Firewalls {
		if f.ID == id {
			return f
		}
	}
	return nil
}

func (s *Server) firewallJSON(f *Firewall) map[string]any {
	m := toMap(f)
	var ips []map[string]any
	for _, v := range s.st.Servers {
		for _, ip := range v.IPs {
			if ip.FirewallPolicy != nil && ip.FirewallPolicy.ID == f.ID {
				ips = append(ips, map[string]any{"id": ip.ID, "ip": ip.IP, "server_name": v.Name})
			}
		}
	}
	m["server_ips"] = ips
	m["creation_date"] = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	return m
}
