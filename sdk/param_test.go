package sdk

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParamParse(t *testing.T) {
	cases := map[string]struct {
		p    Param
		in   string
		want any
		err  string
	}{
		"string":            {String("s", ""), "x y", "x y", ""},
		"int":               {Int("n", ""), "42", int64(42), ""},
		"int bounds":        {Int("n", "").Between(1, 5), "6", nil, "above the maximum of 5"},
		"int junk":          {Int("n", ""), "4x", nil, "not a whole number"},
		"int too large":     {Int("n", ""), "99999999999999999999", nil, "99999999999999999999 is too large (the most is 9223372036854775807)"},
		"int too large max": {Int("n", "").Between(1, 5), "99999999999999999999", nil, "is too large (the most is 5)"},
		"int too small":     {Int("n", ""), "-99999999999999999999", nil, "is too small (the least is -9223372036854775808)"},
		"bool 1":            {Bool("b", ""), "1", true, ""},
		"bool NO":           {Bool("b", ""), "NO", false, ""},
		"enum alias":        {EnumOf("e", "", EnumValue{Value: "CL", Aliases: []string{"cloudlinux"}}), "CloudLinux", "CL", ""},
		"enum canonical":    {Enum("e", "", "a", "b"), "B", "b", ""},
		"enum bad":          {Enum("e", "", "a", "b"), "c", nil, "not one of a, b"},
		"ip4":               {IP("ip", ""), "192.0.2.1", "192.0.2.1", ""},
		"ip6 canon":         {IP("ip", ""), "2001:DB8::0:1", "2001:db8::1", ""},
		"ip bad":            {IP("ip", ""), "192.0.2", nil, "not an IP address"},
		"cidr":              {CIDR("c", ""), "10.0.0.0/8", "10.0.0.0/8", ""},
		"cidr host bits":    {CIDR("c", ""), "10.0.0.1/8", "10.0.0.1/8", ""},
		"domain":            {Domain("d", ""), "Sub.Example.com.", "sub.example.com", ""},
		"domain idn label":  {Domain("d", ""), "xn--bcher-kva.example", "xn--bcher-kva.example", ""},
		"domain no dot":     {Domain("d", ""), "localhost", nil, "not a domain name"},
		"domain space":      {Domain("d", ""), "a b.com", nil, "not a domain name"},
		"email":             {Email("e", ""), "a.b@example.com", "a.b@example.com", ""},
		"email bad":         {Email("e", ""), "nope", nil, "not an e-mail address"},
		"duration":          {Duration("d", ""), "1d2h", "26h0m0s", ""},
		"duration neg":      {Duration("d", ""), "-5m", nil, "negative"},
		"size":              {Size("s", ""), "2T", int64(2 << 40), ""},
		"size bytes":        {Size("s", ""), "100", int64(100), ""},
		"size GiB":          {Size("s", ""), "1GiB", int64(1 << 30), ""},
		"size bad unit":     {Size("s", ""), "5Q", nil, "not a size"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := tc.p.Parse(tc.in)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			assert.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestArgsAccessors(t *testing.T) {
	a := Args{"s": "x", "n": int64(3), "b": true, "l": []string{"a", "b"}, "d": "1m30s"}
	assert.Equal(t, "x", a.String("s"))
	assert.Equal(t, "3", a.String("n"))
	assert.Equal(t, int64(3), a.Int("n"))
	assert.True(t, a.Bool("b"))
	assert.Equal(t, []string{"a", "b"}, a.Strings("l"))
	assert.Equal(t, []string{"x"}, a.Strings("s"))
	assert.Equal(t, "a,b", a.String("l"))
	assert.Equal(t, 90.0, a.Duration("d").Seconds())
	assert.Equal(t, []string{"b", "d", "l", "n", "s"}, a.Keys())
	c := a.Clone()
	c["l"].([]string)[0] = "z"
	assert.Equal(t, "a", a.Strings("l")[0], "Clone shares no slices")
	assert.False(t, a.Has("missing"))
	assert.Equal(t, "", a.String("missing"))
}

func TestParseRisk(t *testing.T) {
	for in, want := range map[string]Risk{"read-only": RiskReadOnly, "RO": RiskReadOnly, "low": RiskLow, "High": RiskHigh, "critical": RiskCritical} {
		got, err := ParseRisk(in)
		assert.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := ParseRisk("severe")
	assert.ErrorContains(t, err, "unknown risk level")
}

func TestResourceParam(t *testing.T) {
	cases := map[string]struct {
		params []Param
		want   string
		err    string
	}{
		"none":      {params: []Param{String("user", "")}, want: ""},
		"one":       {params: []Param{Int("line", ""), Domain("zone", "").AsResource()}, want: "zone"},
		"two":       {params: []Param{String("a", "").AsResource(), String("b", "").AsResource()}, err: `marks 2 resource parameters (a, b)`},
		"sensitive": {params: []Param{String("password", "").AsSensitive().AsResource()}, err: `"password" is sensitive`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			spec := CommandSpec{Name: "acct remove", Params: tc.params}
			err := spec.CheckResource()
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				assert.ErrorContains(t, err, `"acct remove"`, "the message names the command")
				assert.PanicsWithValue(t, "sdk: "+err.Error(), func() {
					New("demo", "1").Command("acct remove", "Remove").Params(tc.params...)
				}, "declaring it is refused at once")
				return
			}
			assert.NoError(t, err)
			assert.Equal(t, tc.want, spec.ResourceParam())
			assert.NotPanics(t, func() { New("demo", "1").Command("acct remove", "Remove").Params(tc.params...) })
		})
	}
}

func TestSuggestPrefixKeepsOrderDropsRepeatsAndIgnoresCase(t *testing.T) {
	in := []Suggestion{{Value: "Demo1"}, {Value: "shop"}, {Value: "demo2"}, {Value: "Demo1", Description: "again"}, {Value: ""}}
	var got []string
	for _, s := range SuggestPrefix("dem", in) {
		got = append(got, s.Value)
	}
	if want := []string{"Demo1", "demo2"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
