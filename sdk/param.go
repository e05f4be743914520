package sdk

import (
	"errors"
	"fmt"
	"math"
	"net/mail"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// String declares a free-text parameter.
func String(name, description string) Param { return newParam(name, description, TypeString) }

// FreeText declares a prose parameter (a reason, a note, a comment). Typed as
// name=..., its value runs to the end of the line, so people write
// reason=customer's request, see ticket without quoting; it stops early
// only before another of the command's arguments (name=... or --name),
// ticket=, --target or --plan. As the last positional parameter it takes
// the remaining words.
func FreeText(name, description string) Param { return newParam(name, description, TypeText) }

// Int declares an integer parameter.
func Int(name, description string) Param { return newParam(name, description, TypeInt) }

// Bool declares a yes/no parameter.
func Bool(name, description string) Param { return newParam(name, description, TypeBool) }

// IP declares an IPv4 or IPv6 address parameter.
func IP(name, description string) Param { return newParam(name, description, TypeIP) }

// CIDR declares a network prefix parameter (203.0.113.0/24).
func CIDR(name, description string) Param { return newParam(name, description, TypeCIDR) }

// Domain declares a DNS name parameter.
func Domain(name, description string) Param { return newParam(name, description, TypeDomain) }

// Email declares an e-mail address parameter.
func Email(name, description string) Param { return newParam(name, description, TypeEmail) }

// Duration declares a duration parameter (90s, 5m, 2h, 1d).
func Duration(name, description string) Param { return newParam(name, description, TypeDuration) }

// Size declares a byte size parameter (512M, 10G, 1T); it arrives in bytes.
func Size(name, description string) Param { return newParam(name, description, TypeSize) }

// Enum declares a parameter whose value is one of values.
func Enum(name, description string, values ...string) Param {
	p := newParam(name, description, TypeEnum)
	for _, v := range values {
		p.Enum = append(p.Enum, EnumValue{Value: v})
	}
	return p
}

// EnumOf declares an enum parameter with described and aliased values.
func EnumOf(name, description string, values ...EnumValue) Param {
	p := newParam(name, description, TypeEnum)
	p.Enum = values
	return p
}

func newParam(name, description string, t ParamType) Param {
	return Param{Name: name, Description: description, Type: t}
}

// AsRequired marks the parameter required.
func (p Param) AsRequired() Param { p.Required = true; return p }

// AsPositional lets the parameter be given without its name.
func (p Param) AsPositional() Param { p.Positional = true; return p }

// AsSensitive marks the value secret: redacted everywhere, never typed in chat.
func (p Param) AsSensitive() Param { p.Sensitive = true; return p }

// AsResource marks the parameter that names the resource the command acts
// on (the account, record, VM). Approvers of critical commands type its
// value to confirm, so it must not be sensitive; a command marks at most
// one.
func (p Param) AsResource() Param { p.Resource = true; return p }

// AsRepeated lets the parameter take several values.
func (p Param) AsRepeated() Param { p.Repeated = true; return p }

// WithDefault sets the value used when the parameter is omitted.
func (p Param) WithDefault(v string) Param { p.Default = v; return p }

// WithAliases adds other names for the parameter.
func (p Param) WithAliases(names ...string) Param {
	p.Aliases = append(append([]string(nil), p.Aliases...), names...)
	return p
}

// Between bounds an integer parameter, inclusive.
func (p Param) Between(min, max int64) Param { p.Min, p.Max = &min, &max; return p }

// AtLeast sets the smallest accepted integer.
func (p Param) AtLeast(min int64) Param { p.Min = &min; return p }

// Parse checks raw against the parameter's type and returns the typed
// value (see [Args] for the Go types). Enum values are matched without
// regard to case and through their aliases, and return the canonical value.
func (p *Param) Parse(raw string) (any, error) {
	switch p.Type {
	case TypeString, TypeText, TypeUnspecified:
		return raw, nil
	case TypeInt:
		n, err := strconv.ParseInt(strings.ReplaceAll(raw, "_", ""), 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			// A whole number all the same: say what is wrong with it.
			if strings.HasPrefix(raw, "-") {
				least := int64(math.MinInt64)
				if p.Min != nil {
					least = *p.Min
				}
				return nil, fmt.Errorf("%s is too small (the least is %d)", raw, least)
			}
			most := int64(math.MaxInt64)
			if p.Max != nil {
				most = *p.Max
			}
			return nil, fmt.Errorf("%s is too large (the most is %d)", raw, most)
		}
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", raw)
		}
		if p.Min != nil && n < *p.Min {
			return nil, fmt.Errorf("%d is below the minimum of %d", n, *p.Min)
		}
		if p.Max != nil && n > *p.Max {
			return nil, fmt.Errorf("%d is above the maximum of %d", n, *p.Max)
		}
		return n, nil
	case TypeBool:
		switch strings.ToLower(raw) {
		case "true", "yes", "y", "on", "1":
			return true, nil
		case "false", "no", "n", "off", "0":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not yes or no (use true/false, yes/no, on/off, 1/0)", raw)
	case TypeEnum:
		if v, ok := p.MatchEnum(raw); ok {
			return v, nil
		}
		return nil, fmt.Errorf("%q is not one of %s", raw, strings.Join(p.EnumNames(), ", "))
	case TypeIP:
		a, err := netip.ParseAddr(raw)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is not an IP address", raw)
		}
		return a.String(), nil
	case TypeCIDR:
		pfx, err := netip.ParsePrefix(raw)
		if err != nil {
			return nil, fmt.Errorf("%q is not a network in CIDR form (like 203.0.113.0/24)", raw)
		}
		return pfx.String(), nil
	case TypeDomain:
		d := strings.TrimSuffix(strings.ToLower(raw), ".")
		if !validDomain(d) {
			return nil, fmt.Errorf("%q is not a domain name", raw)
		}
		return d, nil
	case TypeEmail:
		a, err := mail.ParseAddress(raw)
		if err != nil || a.Address != raw || a.Name != "" {
			return nil, fmt.Errorf("%q is not an e-mail address", raw)
		}
		return a.Address, nil
	case TypeDuration:
		d, err := ParseDuration(raw)
		if err != nil {
			return nil, err
		}
		return d.String(), nil
	case TypeSize:
		n, err := ParseSize(raw)
		if err != nil {
			return nil, err
		}
		if p.Min != nil && n < *p.Min {
			return nil, fmt.Errorf("%s is below the minimum of %d bytes", raw, *p.Min)
		}
		if p.Max != nil && n > *p.Max {
			return nil, fmt.Errorf("%s is above the maximum of %d bytes", raw, *p.Max)
		}
		return n, nil
	}
	return nil, fmt.Errorf("parameter type %s is not supported", p.Type)
}

// DefaultValue returns the declared default, typed as an argument of the
// parameter is (a repeated parameter's as a one-element list); ok is false
// when there is none.
func (p *Param) DefaultValue() (v any, ok bool, err error) {
	if p.Default == "" {
		return nil, false, nil
	}
	v, err = p.Parse(p.Default)
	if err != nil {
		return nil, false, err
	}
	if p.Repeated {
		v = []string{FormatValue(v)}
	}
	return v, true, nil
}

// MatchEnum finds the canonical enum value raw stands for.
func (p *Param) MatchEnum(raw string) (string, bool) {
	for _, e := range p.Enum {
		if strings.EqualFold(e.Value, raw) {
			return e.Value, true
		}
		for _, a := range e.Aliases {
			if strings.EqualFold(a, raw) {
				return e.Value, true
			}
		}
	}
	return "", false
}

// EnumNames lists the canonical enum values.
func (p *Param) EnumNames() []string {
	names := make([]string, len(p.Enum))
	for i, e := range p.Enum {
		names[i] = e.Value
	}
	return names
}

func validDomain(d string) bool {
	if len(d) == 0 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r == '_' || r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r))) {
				return false
			}
		}
	}
	return true
}

// ParseDuration reads Go durations plus whole days ("2d", "1d12h").
func ParseDuration(raw string) (time.Duration, error) {
	s := strings.TrimSpace(strings.ToLower(raw))
	var days time.Duration
	if i := strings.Index(s, "d"); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (like 90s, 5m, 2h, 1d)", raw)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
	}
	var rest time.Duration
	if s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (like 90s, 5m, 2h, 1d)", raw)
		}
		rest = d
	}
	d := days + rest
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", raw)
	}
	return d, nil
}

var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
}

// ParseSize reads a byte size. Units are binary (1G = 1024 MiB), as
// hosting panels count them.
func ParseSize(raw string) (int64, error) {
	s := strings.TrimSpace(strings.ToLower(raw))
	i := strings.IndexFunc(s, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.') })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.TrimSpace(s[i:])
	}
	mult, ok := sizeUnits[unit]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || f < 0 {
		return 0, fmt.Errorf("%q is not a size (like 512M, 10G, 1T)", raw)
	}
	v := f * mult
	if v > math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", raw)
	}
	return int64(v), nil
}
