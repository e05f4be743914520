package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// FlexInt decodes a number sent as a JSON number or a string ("2").
type FlexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", s)
	}
	*f = FlexInt(n)
	return nil
}

// FlexString decodes a string sent as a string, a number or null.
type FlexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(s)
		return nil
	}
	*f = FlexString(b)
	return nil
}

// Status is /status.json.
type Status struct {
	DBClwebConnected bool `json:"db_clweb_connected"`
	DBClwebOnline    bool `json:"db_clweb_online"`
	DBRHNConnected   bool `json:"db_rhn_connected"`
	DBRHNOnline      bool `json:"db_rhn_online"`
	RHNOverloaded    bool `json:"rhn_overloaded"`
	RHNQueueFull     bool `json:"rhn_queue_full"`
	XMLRPC           bool `json:"xmlrpc"`
	IPServerReg      bool `json:"ip_server_reg"`
}

// CLKey is a v2 CloudLinux licence key.
type CLKey struct {
	Key         string     `json:"key"`
	ProductType string     `json:"product_type"`
	UsageLimit  FlexInt    `json:"usage_limit"`
	Description FlexString `json:"description"`
}

// CLServer is a v2 CloudLinux server.
type CLServer struct {
	ID       FlexInt `json:"id"`
	Key      string  `json:"key"`
	IP       string  `json:"ip"`
	Hostname string  `json:"hostname"`
}

// SubAccountServer is a server of a reseller's sub-account.
type SubAccountServer struct {
	SubAccountLogin string  `json:"sub_account_login"`
	SubAccountEmail string  `json:"sub_account_email"`
	ServerID        FlexInt `json:"server_id"`
	ServerKey       string  `json:"server_key"`
	Version         FlexInt `json:"version"`
	IP              string  `json:"ip"`
}

// ELSKey is an Extended Life Support key.
type ELSKey struct {
	Key         string     `json:"key"`
	ProductCode string     `json:"productCode"`
	UsageLimit  FlexInt    `json:"usageLimit"`
	Description FlexString `json:"description"`
}

// ELSServer is a server registered with an ELS key.
type ELSServer struct {
	ID          FlexString `json:"id"`
	Key         string     `json:"key"`
	IP          string     `json:"ip"`
	Hostname    string     `json:"hostname"`
	LastCheckin string     `json:"lastCheckin"`
}

// IMKey is an Imunify key.
type IMKey struct {
	Key     string     `json:"key"`
	Limit   FlexInt    `json:"limit"`
	Code    string     `json:"code"`
	Servers FlexInt    `json:"servers"`
	Note    FlexString `json:"note,omitempty"`
}

// IMServer is a server registered with an Imunify key.
type IMServer struct {
	ID          string `json:"id"`
	IP          string `json:"ip"`
	Key         string `json:"key"`
	LastCheckin string `json:"last_checkin"`
}

// Availability is /ipl/availability.json.
type Availability struct {
	Available []int `json:"available"`
	Owned     []int `json:"owned"`
}

// IPLicense is an IP-based licence.
type IPLicense struct {
	IP          string `json:"ip"`
	Type        int    `json:"type"`
	Registered  bool   `json:"registered"`
	Created     string `json:"created"`
	ServerInfo  string `json:"server_info,omitempty"`
	LastCheckin string `json:"last_checkin,omitempty"`
}

// KCKey is a KernelCare key.
type KCKey struct {
	Key     string     `json:"key"`
	Enabled bool       `json:"enabled"`
	Created string     `json:"created"`
	Limit   FlexInt    `json:"limit"`
	Note    FlexString `json:"note"`
}

// KCServer is a server registered with a KernelCare key.
type KCServer struct {
	ServerID    string `json:"server_id"`
	IP          string `json:"ip"`
	Created     string `json:"created"`
	LastCheckin string `json:"last_checkin"`
}

// KCRemoved is what /kcare/srv/remove.json returns for a removed server.
type KCRemoved struct {
	ServerID string `json:"server_id"`
	Key      string `json:"key"`
}

// Group is a server group.
type Group struct {
	Name        string     `json:"name"`
	Description FlexString `json:"description"`
}

// GroupServer is a server in a group.
type GroupServer struct {
	ID       string `json:"id"`
	HostName string `json:"hostName"`
	IP       string `json:"ip"`
	Type     string `json:"type"`
}

// Backup is a CloudLinux Backup (older edition).
type Backup struct {
	ServerID   string  `json:"serverId"`
	Size       FlexInt `json:"size"`
	BackupID   FlexInt `json:"backupId"`
	Datacenter string  `json:"datacenter"`
}

// AWPEntry is one billable AccelerateWP entity.
type AWPEntry struct {
	Product       string  `json:"product"`
	PrimaryDomain string  `json:"primary_domain"`
	Username      *string `json:"username"`
	CDNLimitType  string  `json:"cdn_limit_type,omitempty"`
}

// Feature is an account-level feature (Imunify Email).
type Feature struct {
	FeatureID            int   `json:"feature_id"`
	ApplicableProductIDs []int `json:"applicable_product_ids"`
}
