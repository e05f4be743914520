package sim

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// State is everything the simulator holds.
type State struct {
	Servers   []*VM             `json:"servers"`
	PublicIPs []*PublicIP       `json:"public_ips"`
	Firewalls []*Firewall       `json:"firewall_policies"`
	DVDs      map[string]string `json:"dvds"`   // id → name
	Images    map[string]string `json:"images"` // id → name
	// Clock is the simulator's time when the state was saved, so that a
	// stepped clock resumes where it stopped.
	Clock time.Time `json:"clock,omitzero"`
}

// Datacenter is where a resource lives.
type Datacenter struct {
	ID          string `json:"id"`
	CountryCode string `json:"country_code"`
	Location    string `json:"location"`
}

// HDD is a server disk.
type HDD struct {
	ID     string `json:"id"`
	Size   int    `json:"size"`
	IsMain bool   `json:"is_main"`
}

// Hardware is a server's size.
type Hardware struct {
	FixedInstanceSizeID *string `json:"fixed_instance_size_id"`
	BaremetalModelID    *string `json:"baremetal_model_id"`
	Vcore               int     `json:"vcore"`
	CoresPerProcessor   int     `json:"cores_per_processor"`
	RAM                 float64 `json:"ram"`
	HDDs                []HDD   `json:"hdds"`
}

// Ref names another resource.
type Ref struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ServerIP is an IP of a server.
type ServerIP struct {
	ID             string `json:"id"`
	IP             string `json:"ip"`
	Type           string `json:"type"`
	ReverseDNS     string `json:"reverse_dns"`
	FirewallPolicy *Ref   `json:"firewall_policy"`
}

// Snapshot is a server's snapshot.
type Snapshot struct {
	ID           string `json:"id"`
	CreationDate string `json:"creation_date"`
	DeletionDate string `json:"deletion_date"`
}

// VM is a server. Action is the work in progress, if any.
type VM struct {
	ID            string      `json:"id"`
	CloudpanelID  string      `json:"cloudpanel_id"`
	Name          string      `json:"name"`
	Description   string      `json:"description"`
	ServerType    string      `json:"server_type"`
	Datacenter    Datacenter  `json:"datacenter"`
	CreationDate  string      `json:"creation_date"`
	FirstPassword string      `json:"first_password"`
	State         string      `json:"state"`
	Percent       *int        `json:"percent"`
	Hardware      Hardware    `json:"hardware"`
	Image         Ref         `json:"image"`
	DVD           *Ref        `json:"dvd"`
	Snapshot      *Snapshot   `json:"snapshot"`
	IPs           []*ServerIP `json:"ips"`
	Action        *Action     `json:"action,omitempty"`
	Removed       bool        `json:"removed,omitempty"`
}

// Action is work a server is doing: it goes through Steps, each taking an
// equal share of the action time, and ends in Final.
type Action struct {
	Steps []string  `json:"steps"`
	Final string    `json:"final"`
	Start time.Time `json:"start"`
	// Then runs when it finishes: "remove", "snapshot", "restore".
	Then string `json:"then,omitempty"`
}

// PublicIP is an IP address of the account.
type PublicIP struct {
	ID         string     `json:"id"`
	IP         string     `json:"ip"`
	Type       string     `json:"type"`
	ReverseDNS *string    `json:"reverse_dns"`
	IsDHCP     bool       `json:"is_dhcp"`
	State      string     `json:"state"`
	Created    string     `json:"creation_date"`
	Datacenter Datacenter `json:"datacenter"`
	AssignedTo *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"assigned_to"`
}

// Rule is a firewall rule.
type Rule struct {
	ID          string `json:"id"`
	Protocol    string `json:"protocol"`
	PortFrom    int    `json:"port_from"`
	PortTo      int    `json:"port_to"`
	Source      string `json:"source"`
	Action      string `json:"action"`
	Description string `json:"description"`
}

// Firewall is a firewall policy.
type Firewall struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	State       string `json:"state"`
	Default     int    `json:"default"`
	Rules       []Rule `json:"rules"`
}

var usa = Datacenter{ID: "D0F6D8C8ED29D3036F94C27BBB7BAD36", CountryCode: "US", Location: "USA"}
var spain = Datacenter{ID: "D0F6D8C8ED29D3036F94C27BBB7BAD37", CountryCode: "SP", Location: "Spain"}

func seed(firstPassword string) *State {
	if firstPassword == "" {
		firstPassword = "Fg52K21nz8"
	}
	linux := &Ref{ID: "7DFF10879F4EBA8D478A1D58A46665AE", Name: "Linux"}
	st := &State{
		DVDs:   map[string]string{"B675B070A3BB5C8D71B2129952F04BC8": "ubuntu1404-64iso", "55726DEDA20C99CF6F2AF8F18CAC9963": "w2012r2datacenter64iso"},
		Images: map[string]string{"B5F778B85C041347BCDCFC3172AB3F3C": "centos7-64std", "07C170D67C8EC776933FCFF1C299C1C5": "ubuntu2204-64std"},
		Firewalls: []*Firewall{
			{ID: linux.ID, Name: "Linux", Description: "SSH and web", State: "ACTIVE", Default: 1, Rules: []Rule{
				{ID: "A1B2C3D4E5F60718293A4B5C6D7E8F90", Protocol: "TCP", PortFrom: 22, PortTo: 22, Source: "0.0.0.0", Action: "allow", Description: "SSH"},
				{ID: "DA5CC179ED00079AE7DE595F0073D86E", Protocol: "TCP", PortFrom: 80, PortTo: 80, Source: "0.0.0.0", Action: "allow", Description: "HTTP"},
				{ID: "0766EC674A0CD9D4EC0FA0B07978A649", Protocol: "TCP", PortFrom: 443, PortTo: 443, Source: "0.0.0.0", Action: "allow", Description: "HTTPS"},
			}},
			{ID: "3C4F21EDFEEDD6ABB728EA5CE684E1AF", Name: "Windows", Description: "RDP", State: "ACTIVE", Rules: []Rule{
				{ID: "B1C2D3E4F5061728394A5B6C7D8E9F01", Protocol: "TCP", PortFrom: 3389, PortTo: 3389, Source: "198.51.100.0/24", Action: "allow", Description: "RDP from the office"},
			}},
		},
	}
	mk := func(id, name, state, ip, ipID string, vcore int, ram float64, disks ...int) *VM {
		v := &VM{ID: id, CloudpanelID: id[:7], Name: name, ServerType: "cloud", Datacenter: usa, CreationDate: "2025-03-04T06:32:15+00:00",
			FirstPassword: firstPassword, State: state,
			Hardware: Hardware{Vcore: vcore, CoresPerProcessor: 1, RAM: ram},
			Image:    Ref{ID: "B5F778B85C041347BCDCFC3172AB3F3C", Name: "centos7-64std"},
			IPs:      []*ServerIP{{ID: ipID, IP: ip, Type: "IPV4", ReverseDNS: name + ".example.net", FirewallPolicy: linux}},
		}
		for i, d := range disks {
			v.Hardware.HDDs = append(v.Hardware.HDDs, HDD{ID: fmt.Sprintf("%s%02d", id[:30], i), Size: d, IsMain: i == 0})
		}
		return v
	}
	web := mk("39AA65F5D5B02FA02D58173094EBAF95", "web01", "POWERED_ON", "203.0.113.30", "8D135204687B9CF9E79E7A93C096E336", 2, 4, 80)
	db := mk("4B86A3ACC4CEB7A89E012E49FC17F312", "db01", "POWERED_ON", "203.0.113.31", "569FA2EC06DD48C9E8635F3384A018DB", 4, 8, 100, 200)
	db.Snapshot = &Snapshot{ID: "B77E19E062D5818532EFF11C747BD104", CreationDate: "2026-11-20T23:48:38Z", DeletionDate: "2026-11-23T23:48:38Z"}
	stage := mk("6DD7C9714E555230BCFFED4E249358F0", "staging", "POWERED_OFF", "203.0.113.32", "F77CC589EBC120905B4F4719217BFF6D", 1, 2, 40)
	stage.Datacenter = spain
	st.Servers = []*VM{web, db, stage}
	for _, v := range st.Servers {
		rdns := v.IPs[0].ReverseDNS
		p := &PublicIP{ID: v.IPs[0].ID, IP: v.IPs[0].IP, Type: "IPV4", ReverseDNS: &rdns, State: "ACTIVE", Created: v.CreationDate, Datacenter: v.Datacenter}
		p.AssignedTo = &struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Type string `json:"type"`
		}{v.ID, v.Name, "SERVER"}
		st.PublicIPs = append(st.PublicIPs, p)
	}
	st.PublicIPs = append(st.PublicIPs, &PublicIP{ID: "0A1B2C3D4E5F60718293A4B5C6D7E8F9", IP: "203.0.113.99", Type: "IPV4", State: "ACTIVE", Created: "2025-06-01T10:00:00+00:00", Datacenter: usa})
	return st
}

func (s *Server) vm(id string) *VM {
	for _, v := range s.st.Servers {
		if v.ID == id && !v.Removed {
			return v
		}
	}
	return nil
}

// advance moves every action to now.
func (s *Server) advance() {
	now := s.now()
	kept := s.st.Servers[:0]
	for _, v := range s.st.Servers {
		if a := v.Action; a != nil {
			elapsed := now.Sub(a.Start)
			if elapsed >= s.o.ActionTime {
				v.State, v.Percent, v.Action = a.Final, nil, nil
				switch a.Then {
				case "remove":
					v.Removed = true
				case "snapshot":
					t := now.UTC()
					v.Snapshot = &Snapshot{ID: fmt.Sprintf("%032X", t.UnixNano()), CreationDate: t.Format(time.RFC3339), DeletionDate: t.Add(72 * time.Hour).Format(time.RFC3339)}
				}
			} else {
				frac := float64(elapsed) / float64(s.o.ActionTime)
				i := min(int(frac*float64(len(a.Steps))), len(a.Steps)-1)
				p := int(frac * 100)
				v.State, v.Percent = a.Steps[i], &p
			}
		}
		if !v.Removed {
			kept = append(kept, v)
		}
	}
	s.st.Servers = kept
}

func (s *Server) start(v *VM, final, then string, steps ...string) {
	zero := 0
	v.Action = &Action{Steps: steps, Final: final, Start: s.now(), Then: then}
	v.State, v.Percent = steps[0], &zero
}

func busy(v *VM) (int, any) {
	return http.StatusBadRequest, apiErr("INVALID_STATE", fmt.Sprintf("The server is %s; wait until it finishes", strings.ToLower(strings.ReplaceAll(v.State, "_", " "))))
}
