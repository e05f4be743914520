package catalog

import (
	"strings"

	"github.com/deskbot/deskbot/sdk"
)

// The risk table is written by hand and reviewed: the reference says what
// a function does, not how much harm a mistaken call does. Every function
// gets exactly one level:
//
//   - read-only: the list/get/fetch family and the other functions named
//     below that only report;
//   - low: reversible, self-healing or harmless actions (start a check,
//     flush a cache, unblock one address);
//   - critical: destructive or irreversible (data removed, a password
//     replaced, restores that overwrite, whole-server actions), and the
//     proxies that can run any other function;
//   - high: every other change, including any function this table has not
//     been told about.

var readOnlyPrefixes = []string{
	"list", "get", "fetch", "show", "read", "dump", "is_", "has_", "current_", "export_", "lookupns",
	"validate_current_", "restore_queue_list_", "modsec_get_", "php_get_", "php_ini_get_", "ea4_get_", "nginxmanager_get_",
	"package_manager_get_", "package_manager_list_", "convert_addon_fetch_", "convert_addon_list_", "convert_addon_get_",
	"twofactorauth_get_", "backup_destination_get", "backup_destination_list", "backup_set_list", "remote_mysql_read_",
}

var readOnly = set(
	"accountsummary", "acctcounts", "applist", "available_transfer_modules", "backup_config_get", "backup_date_list",
	"backup_does_client_id_have_google_credentials", "backup_get_transport_status", "backup_list_transported",
	"backup_skip_users_all_status", "backup_user_list", "background_mysql_upgrade_status", "cluster_member_has_trust_with",
	"cphulk_status", "cpgreylist_is_server_netblock_trusted", "cpgreylist_list_entries_for_common_mail_provider",
	"cpgreylist_load_common_mail_providers_config", "cpgreylist_status", "domainuserdata", "ea4_list_profiles", "ea4_metainfo",
	"ea4_recommendations", "emailtrack_stats", "emailtrack_user_stats", "exim_configuration_check", "installable_mysql_versions",
	"installed_versions", "ipv6_range_list", "ipv6_range_usage", "latest_available_mysql_version", "leika_get_config",
	"load_cpgreylist_config", "load_cphulk_config", "mail_sni_status", "matchpkgs", "modsec_is_installed", "modsec_preview_vendor",
	"modsec_check_rule", "myprivs", "nat_checkip", "package_manager_is_performing_actions", "package_manager_resolve_actions",
	"parse_dns_zone", "personalization_get", "php_fpm_config_get", "quota_enabled", "remote_mysql_monitor_profile_activation",
	"resellerstats", "resolvedomainname", "restore_modules_summary", "restore_queue_is_active", "restore_queue_state",
	"retrieve_customizations", "retrieve_transfer_session_remote_analysis", "servicestatus", "system_needs_reboot",
	"systemloadavg", "ticket_get_support_agreement", "ticket_get_support_info", "ticket_list", "ticket_whitelist_check",
	"transfer_module_schema", "twofactorauth_policy_status", "version", "api_token_list", "api_token_get_details",
	"getdiskusage", "getdomainowner", "gethostname", "getminimumpasswordstrengths", "getpkginfo", "getresellerips",
	"getzonerecord", "validate_exim_configuration_syntax", "validate_system_user", "verify_new_username",
	"verify_new_username_for_restore", "verify_user_has_feature", "check_remote_ssh_connection", "_getpkgextensionform",
	"cors_proxy_get", "modsec_assemble_config_text", "backup_set_list_combined",
)

// notReadOnly are names the prefixes would take for read-only but that act
// or hand out credentials.
var notReadOnly = set(
	"get_login_url",           // creates a login session: a credential
	"get_remote_access_hash",  // creates the hash when there is none
	"fetch_dkim_private_keys", // returns private keys
	"export_zone_key",         // returns a DNSSEC private key
)

var low = set(
	"start_autossl_check_for_one_user", "start_autossl_check_for_all_users", "start_background_pkgacct",
	"restore_queue_clear_pending_task", "restore_queue_clear_completed_task", "restore_queue_clear_all_completed_tasks",
	"restore_queue_clear_all_failed_tasks", "flush_cphulk_login_history_for_ips", "terminate_cpuser_mailbox_sessions",
	"rebuild_mail_sni_config", "rebuilduserssldb", "update_reverse_dns_cache", "updateuserdomains", "nginxmanager_clear_cache",
	"send_test_posturl", "send_test_pushbullet_note", "package_manager_fixcache", "ensure_dkim_keys_exist",
	"personalization_set", "participate_in_analytics", "verify_icq_access", "verify_oscar_access", "verify_posturl_access",
	"verify_pushbullet_access", "verify_slack_access", "get_password_strength", "modsec_report_rule", "ticket_ssh_test",
	"ticket_ssh_test_start", "background_mysql_upgrade_checker_run", "run_cpkeyclt", "generate_mobileconfig",
	"convertopensshtoputty", "remote_basic_credential_check", "analyze_transfer_session_remote", "backup_destination_validate",
	"validate_login_token",
)

var critical = set(
	// Named by the support-desk notes.
	"removeacct", "killdns", "killpkg", "passwd", "restoreaccount", "restore_queue_activate", "restore_queue_add_task",
	"reboot", "resetzone", "removezonerecord", "flush_cphulk_login_history", "mass_edit_dns_zone",
	// Data or configuration removed for good.
	"delete_domain", "terminatereseller", "delete_account_archives", "restore_queue_clear_all_tasks",
	"restore_queue_clear_all_pending_tasks", "expunge_mailbox_messages", "expunge_messages_for_mailbox_guid",
	"remove_zone_key", "backup_destination_delete", "delete_featurelist", "delete_customizations",
	"restore_config_from_file", "restore_config_from_upload", "start_local_cpmove_restore", "uninstall_rpm_plugin",
	"modsec_remove_vendor", "modsec_discard_all_rule_changes", "twofactorauth_remove_user_config",
	// Passwords and credentials.
	"set_local_mysql_root_password", "set_mysql_password", "set_postgresql_password", "forcepasswordchange",
	"api_token_create", "api_token_revoke", "api_token_update", "accesshash", "get_remote_access_hash", "get_login_url",
	"create_user_session", "fetch_dkim_private_keys", "export_zone_key", "generatesshkeypair", "importsshkey",
	"authorizesshkey", "deletesshkey",
	// Whole-server changes and access control.
	"sethostname", "setresolvers", "set_nameserver", "restrict_whm_root_access", "allow_all_whm_root_access", "setacls",
	"saveacllist", "disable_cphulk", "twofactorauth_disable_policy", "package_manager_submit_actions", "package_manager_upgrade",
	"start_background_mysql_upgrade", "start_cpanel_update", "update_sql_config", "delip", "nat_set_public_ip",
	"disable_authentication_provider", "disable_failing_authentication_providers", "update_updateconf",
	"convert_all_domains_to_fpm", "php_set_system_default_version", "php_set_default_accounts_to_fpm",
	// Proxies that run other functions, as root or as a user.
	"batch", "cpanel", "uapi_cpanel", "execute_remote_whmapi1_with_password",
	// Renames and moves that are hard to undo.
	"rename_mysql_database", "rename_mysql_user", "rename_postgresql_database", "rename_postgresql_user",
	"start_transfer_session", "enqueue_transfer_item", "remote_mysql_initiate_profile_activation",
	"start_profile_activation", "force_dedistribution_from_node", "convert_addon_initiate_conversion", "unsetupreseller",
	"disable_dnssec_for_domains", "deactivate_zone_key",
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Rule is one written rule of the risk table: what a function does that
// sets a floor under its level, whatever the tables above say. A function
// under several rules gets the highest floor. docs/whm.md lists the rules,
// and a test enumerates the whole catalog against them (the response
// samples for secrets, the parameters for addresses and credentials).
type Rule struct {
	Name string
	// Says is the rule in words.
	Says string
	// Level is the least risk of a function under the rule.
	Level sdk.Risk
	// SensitiveOutput: the answer is shown to the requester only.
	SensitiveOutput bool
	Functions       []string
}

// Rules are the written rules, in the order docs/whm.md lists them.
var Rules = []Rule{
	{
		Name: "returns-secrets", Level: sdk.RiskCritical, SensitiveOutput: true,
		Says: "Returns a secret: a private key (PEM, PuTTY, OpenSSH), a password, an API token, an access hash, a 2FA secret, " +
			"an OAuth or session token, or a login URL. Critical, and the answer is shown to the requester only.",
		Functions: []string{
			"convertopensshtoputty", "fetch_dkim_private_keys", "export_zone_key", "fetch_ds_records_for_domains",
			"fetchsslinfo", "fetchcrtinfo", "generatessl", "fetch_ssl_certificates_for_fqdns", "fetch_vhost_ssl_components",
			"fetch_service_ssl_components", "listsshkeys", "generatesshkeypair", "fetch_connected_application",
			"api_token_create", "accesshash", "get_remote_access_hash", "get_login_url", "create_user_session",
			"twofactorauth_generate_tfa_config", "twofactorauth_get_tfa_config_for_user", "validate_login_token",
			"verify_pushbullet_access", "verify_posturl_access", "get_service_config",
			"remote_mysql_read_profile", "remote_mysql_read_profiles", "remote_mysql_create_profile",
			"remote_mysql_create_profile_via_ssh", "remote_mysql_update_profile", "remote_mysql_delete_profile",
		},
	},
	{
		Name: "fetches-user-url", Level: sdk.RiskHigh, SensitiveOutput: true,
		Says: "Makes WHM fetch, post to or connect to an address the caller gives (a URL, a host): the server's network " +
			"position, cloud metadata addresses included, is lent to whoever calls it, and what comes back may hold " +
			"credentials. High at least, and the answer is shown to the requester only.",
		Functions: []string{
			"cors_proxy_get", "send_test_posturl", "verify_posturl_access", "modsec_add_vendor", "modsec_update_vendor",
			"modsec_preview_vendor", "check_remote_ssh_connection", "cluster_member_has_trust_with",
			"create_remote_root_transfer_session", "create_remote_user_transfer_session", "analyze_transfer_session_remote",
			"execute_remote_whmapi1_with_password", "get_remote_access_hash", "backup_destination_add",
			"backup_destination_validate", "remote_basic_credential_check", "remote_mysql_create_profile",
			"remote_mysql_create_profile_via_ssh", "remote_mysql_update_profile", "ticket_validate_oauth2_code",
			"get_server_node_status", "send_test_pushbullet_note",
		},
	},
	{
		Name: "tests-remote-credentials", Level: sdk.RiskHigh,
		Says: "Tests or uses credentials of another system (a remote server's root password, an SSH key, a messaging " +
			"service's token): a way to try passwords from the server's address. High at least.",
		Functions: []string{
			"remote_basic_credential_check", "check_remote_ssh_connection", "verify_icq_access", "verify_oscar_access",
			"verify_pushbullet_access", "verify_slack_access", "verify_posturl_access", "backup_destination_validate",
			"validate_login_token", "analyze_transfer_session_remote", "get_server_node_status", "send_test_pushbullet_note",
		},
	},
	{
		Name: "runs-other-functions", Level: sdk.RiskCritical,
		Says: "Runs other functions, as root or as a user (batch, cpanel, uapi_cpanel, a remote WHM): the policy " +
			"cannot see what they do. Critical.",
		Functions: []string{"batch", "cpanel", "uapi_cpanel", "execute_remote_whmapi1_with_password"},
	},
}

// ruled maps a function to the rules it is under.
var ruled = func() map[string][]*Rule {
	m := map[string][]*Rule{}
	for i := range Rules {
		for _, fn := range Rules[i].Functions {
			m[fn] = append(m[fn], &Rules[i])
		}
	}
	return m
}()

// RulesOf returns the rules a function is under.
func RulesOf(fn string) []*Rule { return ruled[fn] }

// RiskOf returns a function's risk level: the table's, raised to the
// floor of every rule the function is under.
func RiskOf(fn string) sdk.Risk {
	r := tableRisk(fn)
	for _, rule := range ruled[fn] {
		r = max(r, rule.Level)
	}
	return r
}

// SensitiveOutput reports whether a function's answer holds a secret, to
// be shown to the requester only.
func SensitiveOutput(fn string) bool {
	for _, rule := range ruled[fn] {
		if rule.SensitiveOutput {
			return true
		}
	}
	return false
}

func tableRisk(fn string) sdk.Risk {
	switch {
	case critical[fn]:
		return sdk.RiskCritical
	case low[fn]:
		return sdk.RiskLow
	case readOnly[fn]:
		return sdk.RiskReadOnly
	case notReadOnly[fn]:
		return sdk.RiskHigh
	}
	for _, p := range readOnlyPrefixes {
		if strings.HasPrefix(fn, p) {
			return sdk.RiskReadOnly
		}
	}
	return sdk.RiskHigh
}

// ReadOnly reports whether a function is rated read-only: it changes
// nothing and hands out nothing a rule guards.
func ReadOnly(fn string) bool { return RiskOf(fn) == sdk.RiskReadOnly }

// reachesOut are functions that only read this server's state by name but
// connect to another host: a retry would repeat the connection there.
var reachesOut = set("cors_proxy_get", "check_remote_ssh_connection", "cluster_member_has_trust_with", "modsec_preview_vendor")

// Reads reports whether a function changes nothing, on this server or
// elsewhere, so that a lost answer may be asked for again. This is what
// the table says a function does, apart from its risk: fetchsslinfo is
// critical (it returns a private key) and reads; a function the table
// does not know changes, and is sent once.
func Reads(fn string) bool {
	if reachesOut[fn] || critical[fn] || low[fn] || notReadOnly[fn] {
		return false
	}
	if readOnly[fn] {
		return true
	}
	for _, p := range readOnlyPrefixes {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

// secretParams hold secrets in any function.
var secretParams = set(
	"password", "pass", "root_password", "sshkey_passphrase", "passphrase", "privatekey", "client_secret",
	"application_key", "mysql_pass", "secret", "tfa_token", "token", "api_token", "access_token", "login_token",
	"cp_security_token", "pushbullet_access_token", "key_data", "parameter_value", "aws_secret_access_key", "remote_password",
)

// keyIsSecret lists the functions whose "key" parameter is a private key
// or an access key rather than a name.
var keyIsSecret = set(
	"installssl", "enqueue_deferred_ssl_installations", "install_service_ssl_certificate", "install_dkim_private_keys",
	"importsshkey", "add_configclusterserver", "update_configclusterserver", "import_zone_key",
)

// SecretParam reports whether a function's parameter carries a secret.
func SecretParam(fn string, p Param) bool {
	name := strings.ToLower(p.Name)
	if secretParams[name] || strings.Contains(p.Type, "pem-private-key") {
		return true
	}
	return name == "key" && keyIsSecret[fn]
}
