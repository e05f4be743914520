package catalog_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/whm/catalog"
	"github.com/deskbot/deskbot/sdk"
)

func TestCatalogHoldsEveryFunctionOnce(t *testing.T) {
	c := catalog.MustLoad()
	// The reference documents 595 entries; is_alias_available twice.
	require.Len(t, c.Functions, 594)
	seen := map[string]bool{}
	for _, f := range c.Functions {
		assert.False(t, seen[f.Name], "%s listed twice", f.Name)
		seen[f.Name] = true
		assert.Regexp(t, `^[a-z_][a-z0-9_]*$`, f.Name)
		assert.NotEmpty(t, f.Title, f.Name)
		assert.NotEmpty(t, f.Category, f.Name)
	}
	for _, n := range []string{"listaccts", "createacct", "removeacct", "suspendacct", "is_alias_available", "parse_dns_zone",
		"flush_cphulk_login_history_for_ips", "restore_queue_add_task", "systemloadavg", "batch", "_getpkgextensionform"} {
		assert.True(t, seen[n], "%s missing", n)
	}
}

func param(t *testing.T, fn, name string) catalog.Param {
	t.Helper()
	f, ok := catalog.MustLoad().Get(fn)
	require.True(t, ok, fn)
	p, ok := f.Param(name)
	require.True(t, ok, "%s has no parameter %s", fn, name)
	return *p
}

func TestRecoveredParameterNames(t *testing.T) {
	// Names the reference drops (oneOf/anyOf types) and keeps only in the
	// example line.
	for fn, names := range map[string][]string{
		"limitbw":                            {"bwlimit"},
		"editquota":                          {"quota"},
		"modifyacct":                         {"MAXPOP", "MAXSQL", "MAXFTP", "MAXSUB", "MAXPARK", "MAXADDON", "MAXLST", "QUOTA", "BWLIMIT", "MAX_EMAIL_PER_HOUR"},
		"createacct":                         {"maxpop", "maxsql", "bwlimit", "max_email_per_hour"},
		"create_cphulk_record":               {"ip"},
		"delete_cphulk_record":               {"ip"},
		"flush_cphulk_login_history_for_ips": {"ip"},
		"setresolvers":                       {"nameserver1", "nameserver2", "nameserver3"},
		"api_token_create":                   {"whitelist_ip"},
	} {
		for _, n := range names {
			p := param(t, fn, n)
			assert.True(t, p.Recovered, "%s %s should be marked recovered", fn, n)
		}
	}
	assert.Equal(t, "unlimited", param(t, "limitbw", "bwlimit").Default, "the default that makes limitbw dangerous")
}

func TestParametersAsDocumented(t *testing.T) {
	p := param(t, "listaccts", "searchtype")
	assert.Equal(t, []string{"domain", "owner", "user", "ip", "package"}, p.Values)
	assert.True(t, param(t, "suspendacct", "user").Required)
	assert.Equal(t, "Unknown", param(t, "suspendacct", "reason").Default)
	assert.Equal(t, "0", param(t, "removeacct", "keepdns").Default)
	assert.True(t, param(t, "removeacct", "user").Deprecated, "a Deprecated line between type and default")
	assert.Equal(t, "repeat", param(t, "mass_edit_dns_zone", "add").List)
	// Numbered list forms and aliases resolve to their parameter.
	assert.Equal(t, "user", param(t, "massmodifyacct", "user-3").Name)
	assert.Equal(t, "uid", param(t, "untrack_acct_id", "gid").Name)
	assert.Equal(t, "enabledigest", param(t, "passwd", "digestauth").Name)
	// Wildcard families.
	assert.True(t, param(t, "modifyacct", "MXCHECK-example.com").Wildcard)
	f, _ := catalog.MustLoad().Get("modifyacct")
	assert.True(t, f.OpenEnded())
	f, _ = catalog.MustLoad().Get("cpanel")
	assert.True(t, f.OpenEnded(), "cpanel takes caller-chosen names")
}

func TestIrregularitiesAreHandled(t *testing.T) {
	c := catalog.MustLoad()
	for fn, cat := range map[string]string{
		"systemloadavg":                                "System Information",
		"nginxmanager_clear_cache":                     "NGINX Manager",
		"getdomainowner":                               "Accounts / Domain Information",
		"listaccts":                                    "Accounts / Account Management",
		"get_cphulk_brutes":                            "Login Security (cPHulk) / Reporting",
		"list_account_enhancements":                    "Account Enhancements",
		"php_get_installed_versions":                   "PHP",
		"cpgreylist_save_common_mail_providers_config": "Mail / Spam Protection (Greylisting)",
	} {
		f, ok := c.Get(fn)
		require.True(t, ok, fn)
		assert.Equal(t, cat, f.Category, fn)
	}
	// Samples that are not valid JSON in the reference are kept corrected.
	for _, fn := range []string{"fetch_pkgacct_master_log", "ea4_recommendations", "modsec_get_vendors"} {
		sample := c.Sample(fn)
		require.NotEmpty(t, sample, fn)
		assert.True(t, json.Valid(sample), fn)
	}
	// Functions that take a JSON body, and one-line or URL-only samples.
	f, _ := c.Get("php_fpm_config_set")
	assert.Equal(t, "json", f.Body)
	f, _ = c.Get("addzonerecord")
	assert.Equal(t, "form", f.Body)
	for _, fn := range []string{"parse_dns_zone", "ticket_list", "personalization_get"} {
		_, ok := c.Get(fn)
		assert.True(t, ok, fn)
	}
	assert.NotEmpty(t, c.Irregular)
}

func TestEveryFunctionHasOneRisk(t *testing.T) {
	c := catalog.MustLoad()
	count := map[sdk.Risk]int{}
	for _, f := range c.Functions {
		r := catalog.RiskOf(f.Name)
		require.GreaterOrEqual(t, r, sdk.RiskReadOnly, f.Name)
		count[r]++
	}
	t.Logf("risk levels: %v", count)
	for _, fn := range []string{"removeacct", "killdns", "killpkg", "passwd", "restoreaccount", "restore_queue_activate", "reboot",
		"resetzone", "removezonerecord", "flush_cphulk_login_history", "restore_queue_add_task", "mass_edit_dns_zone",
		"batch", "cpanel", "uapi_cpanel", "api_token_create", "set_mysql_password", "sethostname", "delete_domain"} {
		assert.Equal(t, sdk.RiskCritical, catalog.RiskOf(fn), fn)
	}
	for _, fn := range []string{"listaccts", "accountsummary", "getdomainowner", "parse_dns_zone", "get_cphulk_brutes",
		"read_cphulk_records", "fetch_ssl_vhosts", "restore_queue_state", "servicestatus", "systemloadavg", "version"} {
		assert.Equal(t, sdk.RiskReadOnly, catalog.RiskOf(fn), fn)
		assert.True(t, catalog.ReadOnly(fn))
	}
	for _, fn := range []string{"flush_cphulk_login_history_for_ips", "start_autossl_check_for_one_user", "restore_queue_clear_pending_task"} {
		assert.Equal(t, sdk.RiskLow, catalog.RiskOf(fn), fn)
	}
	for _, fn := range []string{"suspendacct", "unsuspendacct", "createacct", "changepackage", "limitbw", "hold_outgoing_email",
		"release_outgoing_email", "create_cphulk_record", "restartservice"} {
		assert.Equal(t, sdk.RiskHigh, catalog.RiskOf(fn), fn)
	}
	// Read-only by name but handing out credentials.
	for _, fn := range []string{"get_login_url", "fetch_dkim_private_keys", "export_zone_key", "get_remote_access_hash"} {
		assert.Greater(t, catalog.RiskOf(fn), sdk.RiskReadOnly, fn)
	}
	// A function the table has never heard of is not taken for harmless.
	assert.Equal(t, sdk.RiskHigh, catalog.RiskOf("frobnicate_everything"))
}

func TestSecretParameters(t *testing.T) {
	secret := func(fn, name string) bool { return catalog.SecretParam(fn, param(t, fn, name)) }
	assert.True(t, secret("createacct", "password"))
	assert.True(t, secret("passwd", "password"))
	assert.True(t, secret("installssl", "key"), "installssl's key is a private key")
	assert.False(t, secret("passwd", "user"))
	assert.False(t, secret("installssl", "domain"))
}

// A loaded catalog does not keep the samples on every function; they are
// read on demand, and every function with one gives it.
func TestSamplesAreReadOnDemand(t *testing.T) {
	c := catalog.MustLoad()
	f, ok := c.Get("listaccts")
	require.True(t, ok)
	assert.Empty(t, f.Sample, "samples are not kept on the loaded functions")
	sample := c.Sample("listaccts")
	require.NotEmpty(t, sample)
	assert.Contains(t, string(sample), `"acct"`)
	assert.Nil(t, c.Sample("no_such_function"))
}
