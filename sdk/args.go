package sdk

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Args are a command's typed arguments, keyed by parameter name. Values are
// string, int64, bool or []string: INT and SIZE parameters arrive as int64
// (SIZE in bytes), BOOL as bool, repeated parameters as []string, DURATION
// as a Go duration string, everything else as string.
type Args map[string]any

// Has reports whether name was given (or defaulted).
func (a Args) Has(name string) bool {
	_, ok := a[name]
	return ok
}

// String returns the argument as text, whatever its type; "" if absent.
func (a Args) String(name string) string {
	v, ok := a[name]
	if !ok {
		return ""
	}
	return FormatValue(v)
}

// Int returns an INT or SIZE argument; 0 if absent.
func (a Args) Int(name string) int64 {
	switch v := a[name].(type) {
	case int64:
		return v
	case int:
		return int64(v)
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// Bool returns a BOOL argument; false if absent.
func (a Args) Bool(name string) bool {
	switch v := a[name].(type) {
	case bool:
		return v
	case string:
		b, _ := strconv.ParseBool(v)
		return b
	}
	return false
}

// Strings returns a repeated argument; a single value becomes a one-element slice.
func (a Args) Strings(name string) []string {
	switch v := a[name].(type) {
	case []string:
		return v
	case nil:
		return nil
	default:
		return []string{FormatValue(v)}
	}
}

// Duration returns a DURATION argument; 0 if absent or malformed.
func (a Args) Duration(name string) time.Duration {
	d, _ := time.ParseDuration(a.String(name))
	return d
}

// Keys returns the argument names, sorted.
func (a Args) Keys() []string {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Clone returns a copy that shares no slices with a.
func (a Args) Clone() Args {
	out := make(Args, len(a))
	for k, v := range a {
		if l, ok := v.([]string); ok {
			v = append([]string(nil), l...)
		}
		out[k] = v
	}
	return out
}

// FormatValue writes an argument value the way a user would type it.
func FormatValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	case []string:
		return strings.Join(v, ",")
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
