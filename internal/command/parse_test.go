package command

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/sdk"
)

type fakeProvider struct {
	name     string
	catalog  []sdk.CommandSpec
	targets  []string
	defaultT string
}

func (f *fakeProvider) Name() string               { return f.name }
func (f *fakeProvider) Catalog() []sdk.CommandSpec { return f.catalog }
func (f *fakeProvider) Targets() []string          { return f.targets }
func (f *fakeProvider) DefaultTarget() string      { return f.defaultT }

var _ Provider = (*fakeProvider)(nil)

func provider() *fakeProvider {
	p := sdk.New("cln", "1")
	p.Command("ipl check", "Check an IP").Params(sdk.IP("ip", "address").AsRequired().AsPositional())
	p.Command("ipl register", "Register an IP").Risk(sdk.RiskHigh).Params(
		sdk.IP("ip", "address").AsRequired().AsPositional(),
		sdk.EnumOf("type", "licence type",
			sdk.EnumValue{Value: "1", Aliases: []string{"cloudlinux"}},
			sdk.EnumValue{Value: "16", Aliases: []string{"kernelcare", "kcare"}},
			sdk.EnumValue{Value: "41", Aliases: []string{"imunify360"}}).AsRequired(),
		sdk.Bool("els_allowed", "allow ELS"),
	)
	p.Command("ipl remove", "Remove a licence").Risk(sdk.RiskHigh).Params(
		sdk.IP("ip", "address").AsRequired().AsPositional(),
		sdk.Enum("type", "licence type", "1", "16").AsRequired(),
	)
	p.Command("kcare key create", "Create a KernelCare key").Risk(sdk.RiskHigh).Params(
		sdk.Int("limit", "servers").AsRequired().Between(0, 1000),
		sdk.String("note", "a note"),
	)
	p.Command("kcare key set-cidr", "Set key CIDRs").Params(
		sdk.String("key", "the key").AsRequired().AsPositional(),
		sdk.CIDR("cidr", "networks").AsRequired().AsRepeated(),
	)
	p.Command("hulk unblock", "Unblock IPs").Aliases("hulk flush").Params(sdk.IP("ip", "addresses").AsRequired().AsPositional().AsRepeated())
	p.Command("account create", "Create an account").Params(
		sdk.String("user", "user name").AsRequired().AsPositional(),
		sdk.Domain("domain", "main domain").AsRequired().AsPositional(),
		sdk.Email("email", "contact"),
		sdk.String("password", "password").AsSensitive(),
		sdk.Size("quota", "disk quota").WithDefault("10G"),
		sdk.Duration("ttl", "how long").WithDefault("1h"),
		sdk.Bool("dry", "only pretend").WithAliases("dry-run"),
	)
	p.Command("account suspend", "Suspend an account").Risk(sdk.RiskHigh).Params(
		sdk.String("user", "the account").AsRequired().AsPositional(),
		sdk.FreeText("reason", "why").AsRequired().WithAliases("why"),
		sdk.Bool("notify", "tell the owner"),
	)
	p.Command("status", "API status")
	cat, _ := p.Describe(nil, &sdk.DescribeRequest{})
	specs := cat.Commands
	return &fakeProvider{name: "cln", catalog: specs, targets: []string{"main", "backup"}, defaultT: "main"}
}

func TestParse(t *testing.T) {
	type want struct {
		command string
		args    sdk.Args
		target  string
		help    []string // help path; nil unless a help request
		err     string   // substring of the error
		token   string   // the token the error names
		suggest []string
	}
	cases := map[string]struct {
		in string
		want
	}{
		// Commands and positionals.
		"positional ip":          {"ipl check 203.0.113.7", want{command: "ipl check", args: sdk.Args{"ip": "203.0.113.7"}, target: "main"}},
		"named ip":               {"ipl check ip=203.0.113.7", want{command: "ipl check", args: sdk.Args{"ip": "203.0.113.7"}}},
		"flag ip":                {"ipl check --ip 203.0.113.7", want{command: "ipl check", args: sdk.Args{"ip": "203.0.113.7"}}},
		"flag equals":            {"ipl check --ip=203.0.113.7", want{command: "ipl check", args: sdk.Args{"ip": "203.0.113.7"}}},
		"ipv6":                   {"ipl check 2001:db8::1", want{command: "ipl check", args: sdk.Args{"ip": "2001:db8::1"}}},
		"ipv6 normalised":        {"ipl check 2001:DB8:0:0::1", want{command: "ipl check", args: sdk.Args{"ip": "2001:db8::1"}}},
		"case-insensitive words": {"IPL Check 203.0.113.7", want{command: "ipl check"}},
		"single word command":    {"status", want{command: "status", args: sdk.Args{}}},
		"three word command":     {"kcare key create limit=5", want{command: "kcare key create", args: sdk.Args{"limit": int64(5)}}},
		"alias command":          {"hulk flush 192.0.2.1", want{command: "hulk unblock", args: sdk.Args{"ip": []string{"192.0.2.1"}}}},
		"extra spaces":           {"  ipl    check    203.0.113.7  ", want{command: "ipl check", args: sdk.Args{"ip": "203.0.113.7"}}},

		// Enums, names and codes.
		"enum by code":         {"ipl register 203.0.113.7 type=16", want{command: "ipl register", args: sdk.Args{"ip": "203.0.113.7", "type": "16"}}},
		"enum by alias":        {"ipl register 203.0.113.7 type=kernelcare", want{args: sdk.Args{"type": "16"}}},
		"enum alias any case":  {"ipl register 203.0.113.7 type=KernelCare", want{args: sdk.Args{"type": "16"}}},
		"enum second alias":    {"ipl register 203.0.113.7 type=kcare", want{args: sdk.Args{"type": "16"}}},
		"enum bad":             {"ipl register 203.0.113.7 type=kernelcar", want{err: "is not one of 1, 16, 41", token: "type=kernelcar", suggest: []string{"kernelcare"}}},
		"enum bad no sugg":     {"ipl register 203.0.113.7 type=zzz", want{err: "is not one of", token: "type=zzz"}},
		"bool yes":             {"ipl register 203.0.113.7 type=1 els_allowed=yes", want{args: sdk.Args{"els_allowed": true}}},
		"bool off":             {"ipl register 203.0.113.7 type=1 els_allowed=off", want{args: sdk.Args{"els_allowed": false}}},
		"bool flag alone":      {"account create bob example.com --dry", want{args: sdk.Args{"dry": true}}},
		"bool flag with value": {"account create bob example.com --dry no", want{args: sdk.Args{"dry": false}}},
		"bool alias":           {"account create bob example.com dry-run=true", want{args: sdk.Args{"dry": true}}},
		"bool bad":             {"ipl register 203.0.113.7 type=1 els_allowed=maybe", want{err: "is not yes or no", token: "els_allowed=maybe"}},

		// Quoting.
		"double quotes":           {`kcare key create limit=5 note="customer 42"`, want{args: sdk.Args{"note": "customer 42"}}},
		"single quotes":           {`kcare key create limit=5 note='customer 42'`, want{args: sdk.Args{"note": "customer 42"}}},
		"smart quotes":            {"kcare key create limit=5 note=\u201ccustomer 42\u201d", want{args: sdk.Args{"note": "customer 42"}}},
		"smart single quotes":     {"kcare key create limit=5 note=\u2018a b\u2019", want{args: sdk.Args{"note": "a b"}}},
		"escaped quote":           {`kcare key create limit=5 note="say \"hi\""`, want{args: sdk.Args{"note": `say "hi"`}}},
		"single keeps backslash":  {`kcare key create limit=5 note='a\b'`, want{args: sdk.Args{"note": `a\b`}}},
		"equals inside quotes":    {`kcare key create limit=5 note="a=b"`, want{args: sdk.Args{"note": "a=b"}}},
		"quoted flag value":       {`kcare key create --limit 5 --note "two words"`, want{args: sdk.Args{"limit": int64(5), "note": "two words"}}},
		"empty quoted string":     {`kcare key create limit=5 note=""`, want{args: sdk.Args{"note": ""}}},
		"unclosed quote":          {`kcare key create limit=5 note="oops`, want{err: "never closed", token: `"oops`}},
		"quoted positional w/ eq": {`kcare key set-cidr "k=1" cidr=10.0.0.0/8`, want{args: sdk.Args{"key": "k=1"}}},
		"quoted command word":     {`"ipl" check 1.2.3.4`, want{err: "expected a command name"}},

		// Types.
		"int":            {"kcare key create limit=10", want{args: sdk.Args{"limit": int64(10)}}},
		"int underscore": {"kcare key create limit=1_000", want{args: sdk.Args{"limit": int64(1000)}}},
		"int bad":        {"kcare key create limit=ten", want{err: `"ten" is not a whole number`, token: "limit=ten"}},
		"int too big":    {"kcare key create limit=5000", want{err: "above the maximum of 1000", token: "limit=5000"}},
		"int negative":   {"kcare key create limit=-1", want{err: "below the minimum of 0"}},
		"ip bad":         {"ipl check 203.0.113.300", want{err: "is not an IP address", token: "203.0.113.300"}},
		"ip zone":        {"ipl check fe80::1%eth0", want{err: "is not an IP address"}},
		"cidr":           {"kcare key set-cidr K1 cidr=10.0.0.0/8", want{args: sdk.Args{"cidr": []string{"10.0.0.0/8"}}}},
		"cidr bad":       {"kcare key set-cidr K1 cidr=10.0.0.0/33", want{err: "is not a network in CIDR form"}},
		"domain":         {"account create bob Example.COM.", want{args: sdk.Args{"domain": "example.com"}}},
		"domain bad":     {"account create bob not_a-domain", want{err: "is not a domain name", token: "not_a-domain"}},
		"domain label":   {"account create bob -bad.com", want{err: "is not a domain name", token: "-bad.com"}},
		"email":          {"account create bob example.com email=bob@example.com", want{args: sdk.Args{"email": "bob@example.com"}}},
		"email bad":      {"account create bob example.com email=bob@", want{err: "is not an e-mail address"}},
		"email named":    {"account create bob example.com email=Bob<bob@example.com>", want{err: "is not an e-mail address"}},
		"size":           {"account create bob example.com quota=512M", want{args: sdk.Args{"quota": int64(512 << 20)}}},
		"size fraction":  {"account create bob example.com quota=1.5G", want{args: sdk.Args{"quota": int64(3 << 29)}}},
		"size bad":       {"account create bob example.com quota=lots", want{err: "is not a size"}},
		"duration":       {"account create bob example.com ttl=90s", want{args: sdk.Args{"ttl": "1m30s"}}},
		"duration days":  {"account create bob example.com ttl=2d", want{args: sdk.Args{"ttl": "48h0m0s"}}},
		"duration bad":   {"account create bob example.com ttl=soon", want{err: "is not a duration"}},
		"defaults":       {"account create bob example.com", want{args: sdk.Args{"user": "bob", "domain": "example.com", "quota": int64(10 << 30), "ttl": "1h0m0s"}}},

		// Repeated parameters.
		"repeated positional": {"hulk unblock 192.0.2.1 192.0.2.2", want{args: sdk.Args{"ip": []string{"192.0.2.1", "192.0.2.2"}}}},
		"repeated commas":     {"hulk unblock 192.0.2.1,192.0.2.2", want{args: sdk.Args{"ip": []string{"192.0.2.1", "192.0.2.2"}}}},
		"repeated named":      {"kcare key set-cidr K cidr=10.0.0.0/8 cidr=192.168.0.0/16", want{args: sdk.Args{"cidr": []string{"10.0.0.0/8", "192.168.0.0/16"}}}},
		"repeated bad item":   {"hulk unblock 192.0.2.1,nope", want{err: `"nope" is not an IP address`}},
		"repeated empty":      {"kcare key set-cidr K cidr=,", want{err: "needs at least one value"}},

		// Missing, unknown and duplicate arguments.
		"missing required":    {"ipl register 203.0.113.7", want{err: "is missing type", suggest: nil}},
		"missing all":         {"ipl check", want{err: "is missing ip"}},
		"unknown param":       {"kcare key create limt=5", want{err: `has no parameter "limt"`, token: "limt=5", suggest: []string{"limit"}}},
		"unknown flag":        {"kcare key create --lmit 5", want{err: `has no parameter "lmit"`, suggest: []string{"limit"}}},
		"duplicate param":     {"kcare key create limit=5 limit=6", want{err: "limit is given more than once", token: "limit=6"}},
		"named then position": {"ipl check ip=1.2.3.4 5.6.7.8", want{err: "unexpected word", token: "5.6.7.8"}},
		"extra positional":    {"ipl check 1.2.3.4 5.6.7.8", want{err: "takes 1 positional argument", token: "5.6.7.8"}},
		"stray word":          {"kcare key create limit=5 nte", want{err: "takes only key=value arguments", token: "nte", suggest: []string{"note=…"}}},
		"empty value":         {"kcare key create limit=", want{err: "limit needs a value"}},
		"flag missing value":  {"kcare key create --limit", want{err: "needs a value after it", token: "--limit"}},
		"sensitive named":     {"account create bob example.com password=s3cret", want{args: sdk.Args{"password": "s3cret"}}},

		// Unknown commands and groups.
		"unknown command":       {"ipl chek 1.2.3.4", want{err: `/cln ipl has no command "chek"`, token: "chek", suggest: []string{"check"}}},
		"unknown top":           {"kcaer key list", want{err: `/cln has no command "kcaer"`, suggest: []string{"kcare"}}},
		"transposed":            {"stauts", want{err: `has no command "stauts"`, suggest: []string{"status"}}},
		"group needs word":      {"ipl", want{err: "/cln ipl needs one more word: check, register, remove", token: "ipl"}},
		"group needs two":       {"kcare", want{err: "needs one more word: key"}},
		"only flags":            {"--limit 5", want{err: "expected a command name"}},
		"nothing":               {"", want{err: "/cln needs a command"}},
		"deep unknown":          {"kcare key creat limit=5", want{err: `/cln kcare key has no command "creat"`, suggest: []string{"create"}}},
		"unknown no suggestion": {"zzzzzz", want{err: `has no command "zzzzzz"`}},

		// Targets.
		"default target":      {"status", want{target: "main"}},
		"target flag":         {"status --target backup", want{target: "backup"}},
		"target equals":       {"status --target=backup", want{target: "backup"}},
		"target case":         {"status --target BACKUP", want{target: "backup"}},
		"target before cmd":   {"--target backup status", want{command: "status", target: "backup"}},
		"target mid args":     {"ipl check --target backup 1.2.3.4", want{target: "backup", args: sdk.Args{"ip": "1.2.3.4"}}},
		"target unknown":      {"status --target bakup", want{err: "no such target for /cln", token: "bakup", suggest: []string{"backup"}}},
		"target missing name": {"status --target", want{err: "needs a target name", token: "--target"}},
		"target twice":        {"status --target main --target backup", want{err: "--target given twice"}},

		// Help at every level.
		"help top":           {"help", want{help: []string{}}},
		"help group":         {"help ipl", want{help: []string{"ipl"}}},
		"help command":       {"help ipl check", want{help: []string{"ipl", "check"}}},
		"command help":       {"ipl check help", want{help: []string{"ipl", "check"}}},
		"command --help":     {"ipl check --help", want{help: []string{"ipl", "check"}}},
		"group --help":       {"ipl --help", want{help: []string{"ipl"}}},
		"help unknown":       {"help iql", want{err: `has no command "iql"`, suggest: []string{"ipl"}}},
		"question mark":      {"?", want{help: []string{}}},
		"help with args":     {"ipl register 1.2.3.4 --help", want{help: []string{"ipl", "register"}}},
		"quoted help is arg": {`kcare key set-cidr "help" cidr=10.0.0.0/8`, want{args: sdk.Args{"key": "help"}}},
	}
	if len(cases) < 60 {
		t.Fatalf("only %d cases", len(cases))
	}
	p := provider()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Parse(p, tc.in)
			if tc.err != "" {
				require.Error(t, err)
				var ce *Error
				require.True(t, errors.As(err, &ce), "want *command.Error, got %T", err)
				assert.Contains(t, err.Error(), tc.err)
				if tc.token != "" {
					assert.Equal(t, tc.token, ce.Token)
				}
				if tc.suggest != nil {
					assert.Equal(t, tc.suggest, ce.Suggestions)
				}
				return
			}
			require.NoError(t, err)
			if tc.help != nil {
				require.NotNil(t, got.Help, "want a help request")
				if len(tc.help) == 0 {
					assert.Empty(t, got.Help.Path)
				} else {
					assert.Equal(t, tc.help, got.Help.Path)
				}
				return
			}
			require.NotNil(t, got.Invocation)
			inv := got.Invocation
			if tc.command != "" {
				assert.Equal(t, tc.command, inv.Command.Name)
			}
			for k, v := range tc.args {
				assert.Equal(t, v, inv.Args[k], "argument %s", k)
			}
			if tc.target != "" {
				assert.Equal(t, tc.target, inv.Target)
			}
		})
	}
}

func TestSeveralTargetsWithoutDefaultNeedsOne(t *testing.T) {
	p := provider()
	p.defaultT = ""
	_, err := Parse(p, "status")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "has several targets and no default")
	assert.Contains(t, err.Error(), "`main`")
}

func TestGivenListsOnlyTypedArguments(t *testing.T) {
	got, err := Parse(provider(), "account create bob example.com password=x")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"user", "domain", "password"}, got.Invocation.Given)
}

func TestErrorsCarryUsage(t *testing.T) {
	_, err := Parse(provider(), "ipl register 1.2.3.4")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "usage: /cln ipl register IP type=1|16|41 [els_allowed=yes|no]")
}

func TestSplitProvider(t *testing.T) {
	for in, want := range map[string][2]string{
		"/whm account list": {"whm", "account list"},
		"  /WHM  x ":        {"whm", "x"},
		"/ops":              {"ops", ""},
		"whm account":       {"", "commands start with a slash"},
		"/":                 {"", "must be followed by a command name"},
		"":                  {"", "type a command"},
	} {
		name, rest, err := SplitProvider(in)
		if want[0] == "" {
			require.Error(t, err, in)
			assert.Contains(t, err.Error(), want[1])
			continue
		}
		require.NoError(t, err, in)
		assert.Equal(t, want[0], name)
		assert.Equal(t, want[1], rest)
	}
}

func TestHelpPages(t *testing.T) {
	p := provider()
	top, err := HelpPage(p, "CloudLinux Network", nil, nil)
	require.NoError(t, err)
	s := top.String()
	assert.Contains(t, s, "`/cln ipl register` Register an IP _(high risk)_")
	assert.Contains(t, s, "Targets: main, backup (default main)")

	only, err := HelpPage(p, "", nil, func(c *sdk.CommandSpec) bool { return c.Risk == sdk.RiskReadOnly })
	require.NoError(t, err)
	assert.NotContains(t, only.String(), "ipl register", "help lists only what the user may run")

	group, err := HelpPage(p, "", []string{"ipl"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "/cln ipl", group.Title)
	assert.Len(t, strings.Split(strings.TrimSpace(strings.Split(group.String(), "\n\n")[0]), "\n"), 4)

	cmd, err := HelpPage(p, "", []string{"account", "create"}, nil)
	require.NoError(t, err)
	cs := cmd.String()
	assert.Contains(t, cs, "Usage: `/cln account create USER DOMAIN [email=EMAIL] [password=STRING] [quota=SIZE] [ttl=DURATION] [dry=yes|no]`")
	assert.Contains(t, cs, "`password` (string, secret: asked for privately)")
	assert.Contains(t, cs, "`quota` (size, default 10G)")

	reg, err := HelpPage(p, "", []string{"ipl", "register"}, nil)
	require.NoError(t, err)
	assert.Contains(t, reg.String(), "One of: 1 (cloudlinux), 16 (kernelcare, kcare), 41 (imunify360)")
}

func TestSuggest(t *testing.T) {
	cands := []string{"check", "register", "remove", "convert"}
	assert.Equal(t, []string{"check"}, Suggest("chek", cands))
	assert.Equal(t, []string{"remove"}, Suggest("remvoe", cands))
	assert.Equal(t, []string{"register"}, Suggest("reg", cands))
	assert.Empty(t, Suggest("xyzzy", cands))
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"ipl check 203.0.113.7", `kcare key create limit=5 note="a b"`, "help ipl", "--target backup status",
		"hulk unblock 1.1.1.1,2.2.2.2", "account create bob example.com quota=1.5G ttl=2d", "\u201cx", "'", `"\`,
		"ipl register 1.2.3.4 type=kcare els_allowed=on", "--", "=", "a=b=c", "--x=",
		"account suspend demo1 reason=customer's request, see \"ticket", "account suspend bob --reason it's 5\" wide notify=yes",
		"account suspend bob reason=\u2018x\u2019 ticket=AB-1 --plan", "kcare key create limit=1 note=a b", "account suspend x why='",
	} {
		f.Add(s)
	}
	p := provider()
	f.Fuzz(func(t *testing.T, in string) {
		got, err := Parse(p, in)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			_ = ce.Error()
			if ce.Rewrite != "" {
				// The suggested quoting must at least tokenize.
				_, rest, _ := strings.Cut(ce.Rewrite, " ")
				if _, err := Tokenize(rest); err != nil {
					t.Fatalf("%q: the suggested %q does not tokenize: %v", in, ce.Rewrite, err)
				}
			}
			return
		}
		if (got.Help == nil) == (got.Invocation == nil) {
			t.Fatalf("want exactly one of help and invocation for %q", in)
		}
		if inv := got.Invocation; inv != nil {
			for _, prm := range inv.Command.Params {
				if prm.Required && !inv.Args.Has(prm.Name) {
					t.Fatalf("%q: required %s missing from a successful parse", in, prm.Name)
				}
			}
			for k, v := range inv.Args {
				if _, ok := inv.Command.Param(k); !ok {
					t.Fatalf("%q: argument %s is not a parameter", in, k)
				}
				if prm, _ := inv.Command.Param(k); prm != nil && prm.Type == sdk.TypeText && v == "" {
					t.Fatalf("%q: free text %s is empty", in, k)
				}
				switch v.(type) {
				case string, int64, bool, []string:
				default:
					t.Fatalf("%q: argument %s has type %T", in, k, v)
				}
			}
		}
	})
}

func TestExtraArguments(t *testing.T) {
	p := sdk.New("whm", "1")
	p.Command("call modifyacct", "Modify an account").ExtraArguments().Params(sdk.String("user", "user").AsRequired())
	cat, _ := p.Describe(nil, &sdk.DescribeRequest{})
	specs := cat.Commands
	prov := &fakeProvider{name: "whm", catalog: specs}
	got, err := Parse(prov, "call modifyacct user=bob MXCHECK-example.com=remote")
	require.NoError(t, err)
	assert.Equal(t, "remote", got.Invocation.Args["MXCHECK-example.com"])
	assert.Contains(t, got.Invocation.Given, "MXCHECK-example.com")
	_, err = Parse(prov, "call modifyacct user=bob x=1 x=2")
	assert.ErrorContains(t, err, "x is given more than once")
	_, err = Parse(prov, "call modifyacct user=bob --nope 1")
	assert.ErrorContains(t, err, `has no parameter "nope"`)
}

// A plugin with hundreds of commands reached by name (like /whm call X).
func TestLargeHiddenGroups(t *testing.T) {
	p := &fakeProvider{name: "big"}
	for i := 0; i < 40; i++ {
		p.catalog = append(p.catalog, sdk.CommandSpec{Name: fmt.Sprintf("call fn%02d", i), Summary: "x", Risk: sdk.RiskReadOnly, Hidden: true})
	}
	p.catalog = append(p.catalog, sdk.CommandSpec{Name: "status", Summary: "Status", Risk: sdk.RiskReadOnly})

	_, err := Parse(p, "call")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "needs one more word, one of 40 (fn00, fn01, fn02, fn03, fn04, …); type /big help call")

	_, err = Parse(p, "call fn4")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "fn04", "a near name is suggested even among hidden commands")

	pg, err := HelpPage(p, "", []string{"call"}, nil)
	require.NoError(t, err)
	assert.Contains(t, pg.String(), "40 commands are reached by name, not listed: `/big call NAME ...`")
	pg, err = HelpPage(p, "", nil, nil)
	require.NoError(t, err)
	assert.NotContains(t, pg.String(), "fn00", "hidden commands stay out of the main page")
	pg, err = HelpPage(p, "", []string{"call", "fn07"}, nil)
	require.NoError(t, err)
	assert.Contains(t, pg.String(), "/big call fn07")
}

func TestFreeText(t *testing.T) {
	p := provider()
	cases := map[string]struct {
		in     string
		reason string
		args   sdk.Args
	}{
		"an apostrophe and a comma, unquoted":      {in: "account suspend demo1 reason=customer's request, see ticket", reason: "customer's request, see ticket"},
		"several words":                            {in: "account suspend demo1 reason=spam complaint", reason: "spam complaint"},
		"a typographic apostrophe, as Slack sends": {in: "account suspend demo1 reason=customer\u2019s request", reason: "customer\u2019s request"},
		"smart quotes around the value":            {in: "account suspend demo1 reason=\u201cspam complaint\u201d", reason: "spam complaint"},
		"straight quotes around the value":         {in: `account suspend demo1 reason="spam complaint"`, reason: "spam complaint"},
		"an unclosed quote inside prose":           {in: `account suspend demo1 reason=the 27" monitor was sold twice`, reason: `the 27" monitor was sold twice`},
		"quotes inside prose are kept":             {in: `account suspend demo1 reason=he said "close it" twice`, reason: `he said "close it" twice`},
		"stops before the next argument":           {in: "account suspend demo1 reason=abuse of the mail server notify=yes", reason: "abuse of the mail server", args: sdk.Args{"notify": true}},
		"by alias, before the positional":          {in: "account suspend why=owner asked notify=no demo1", reason: "owner asked", args: sdk.Args{"user": "demo1", "notify": false}},
		"--reason with words after it":             {in: "account suspend demo1 --reason it's over --target backup", reason: "it's over"},
		"a --help inside prose is prose":           {in: "account suspend demo1 reason=read --help first", reason: "read --help first"},
		"flags before the command words":           {in: "--target backup account suspend demo1 reason=spam, again", reason: "spam, again"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Parse(p, tc.in)
			require.NoError(t, err)
			require.NotNil(t, got.Invocation)
			assert.Equal(t, tc.reason, got.Invocation.Args["reason"])
			for k, v := range tc.args {
				assert.Equal(t, v, got.Invocation.Args[k])
			}
		})
	}
}

func TestApostropheIsNotAQuote(t *testing.T) {
	p := provider()
	got, err := Parse(p, "kcare key create limit=5 note=customer's key")
	require.Error(t, err, "a string parameter still takes one word")
	assert.NotContains(t, err.Error(), "never closed")

	got, err = Parse(p, "kcare key create limit=5 note=O'Brien's")
	require.NoError(t, err)
	assert.Equal(t, "O'Brien's", got.Invocation.Args["note"])

	got, err = Parse(p, `kcare key create limit=5 note='it's done'`)
	require.NoError(t, err)
	assert.Equal(t, "it's done", got.Invocation.Args["note"], "an apostrophe inside single quotes does not close them")

	toks, err := Tokenize("a 'b c' d")
	require.NoError(t, err)
	assert.Equal(t, "b c", toks[1].Text, "a quote at the start of a word still opens")
}

func TestQuotingRewrite(t *testing.T) {
	p := provider()
	cases := map[string]struct{ in, msg, rewrite string }{
		"two words for a one-word value": {
			in: "kcare key create limit=5 note=spam complaint", msg: "unexpected word",
			rewrite: `/cln kcare key create limit=5 note="spam complaint"`,
		},
		"three words, then another argument": {
			in: "kcare key create note=for the web farm limit=5", msg: "unexpected word",
			rewrite: `/cln kcare key create note="for the web farm" limit=5`,
		},
		"a double quote never closed": {
			in: `kcare key create limit=5 note="for the web farm`, msg: "never closed",
			rewrite: `/cln kcare key create limit=5 note="for the web farm"`,
		},
		"a single quote never closed": {
			in: `kcare key set-cidr 'abc cidr=10.0.0.0/8`, msg: "never closed",
			rewrite: `/cln kcare key set-cidr "'abc" cidr=10.0.0.0/8`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(p, tc.in)
			var ce *Error
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, ce.Msg, tc.msg)
			assert.Equal(t, tc.rewrite, ce.Rewrite)
			assert.Contains(t, err.Error(), "quoted, it would read: `"+tc.rewrite+"`")
			// The suggestion is itself a line that parses.
			_, rest, _ := strings.Cut(tc.rewrite, " ")
			_, err = Parse(p, rest)
			assert.NoError(t, err)
		})
	}
}

func TestTicketAndPlanWords(t *testing.T) {
	p := provider()
	got, err := Parse(p, "account suspend demo1 reason=spam, see ticket ticket=ABC-123 --plan")
	require.NoError(t, err)
	inv := got.Invocation
	assert.Equal(t, "spam, see ticket", inv.Args["reason"])
	assert.Equal(t, "ABC-123", inv.Ticket)
	assert.True(t, inv.Plan)
	assert.NotContains(t, inv.Given, "ticket", "ticket is not a parameter")

	got, err = Parse(p, "--ticket OPS-7 ipl check 203.0.113.7")
	require.NoError(t, err)
	assert.Equal(t, "OPS-7", got.Invocation.Ticket)
	assert.False(t, got.Invocation.Plan)

	_, err = Parse(p, "ipl check 203.0.113.7 ticket=A-1 ticket=A-2")
	assert.ErrorContains(t, err, "ticket given twice")
	_, err = Parse(p, "ipl check 203.0.113.7 ticket=")
	assert.ErrorContains(t, err, "ticket needs a reference")
}

// A stray word after a word of the bot's (ticket=) is not merged into
// the value before it: the rewrite would change what the line says.
func TestNoRewriteAcrossReservedWords(t *testing.T) {
	_, err := Parse(provider(), "kcare key create limit=5 note=x ticket=ABC-1 more")
	var ce *Error
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, ce.Msg, "unexpected word")
	assert.Empty(t, ce.Rewrite)
}

func TestFreeTextHasAMaximumLength(t *testing.T) {
	p := provider()
	long := strings.Repeat("spam ", 600)[:2999] + "x"
	_, err := Parse(p, "account suspend demo1 reason="+long+" notify=yes")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reason is 3000 characters; at most 500")
	assert.NotContains(t, err.Error(), long[:600], "the error does not repeat the value")

	_, err = Bind(p, "account suspend", "", map[string][]string{"user": {"demo1"}, "reason": {long}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reason is 3000 characters; at most 500")

	// Characters, not bytes: 500 accented letters fit.
	got, err := Parse(p, "account suspend demo1 reason="+strings.Repeat("é", MaxTextLength))
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("é", MaxTextLength), got.Invocation.Args["reason"])
	_, err = Parse(p, "account suspend demo1 reason="+strings.Repeat("é", MaxTextLength+1))
	assert.ErrorContains(t, err, "reason is 501 characters; at most 500")
}
