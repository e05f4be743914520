package command

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/sdk"
)

func TestBindTakesAFormsValuesWhole(t *testing.T) {
	p := provider()
	inv, err := Bind(p, "kcare key create", "", map[string][]string{"limit": {"5"}, "note": {`customer's "urgent" request, see ABC-1`}})
	require.NoError(t, err)
	assert.Equal(t, `customer's "urgent" request, see ABC-1`, inv.Args["note"], "no quote is read as one")
	assert.Equal(t, int64(5), inv.Args["limit"])
	assert.ElementsMatch(t, []string{"limit", "note"}, inv.Given)

	inv, err = Bind(p, "hulk flush", "", map[string][]string{"ip": {"192.0.2.1", "192.0.2.2"}})
	require.NoError(t, err, "an alias names the command")
	assert.Equal(t, "hulk unblock", inv.Command.Name)
	assert.Equal(t, []string{"192.0.2.1", "192.0.2.2"}, inv.Args["ip"])
}

func TestBindReportsMistakesAsParseDoes(t *testing.T) {
	p := provider()
	for name, tc := range map[string]struct {
		cmd    string
		values map[string][]string
		want   string
	}{
		"unknown command": {"ipl chek", nil, `has no command "ipl chek"; did you mean`},
		"bad type":        {"kcare key create", map[string][]string{"limit": {"many"}}, "limit"},
		"out of range":    {"kcare key create", map[string][]string{"limit": {"5000"}}, "limit"},
		"missing":         {"ipl register", map[string][]string{"ip": {"192.0.2.1"}}, "is missing type"},
		"unknown param":   {"ipl check", map[string][]string{"ip": {"192.0.2.1"}, "adress": {"x"}}, `has no parameter "adress"`},
		"not a name":      {"ipl check", map[string][]string{"ip x": {"192.0.2.1"}}, "is not a parameter name"},
		"given twice":     {"ipl check", map[string][]string{"ip": {"192.0.2.1", "192.0.2.2"}}, "given more than once"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Bind(p, tc.cmd, "", tc.values)
			var ce *Error
			require.True(t, errors.As(err, &ce), "%v", err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestBindNeverShowsASensitiveValue(t *testing.T) {
	p := &fakeProvider{name: "x", catalog: []sdk.CommandSpec{{Name: "unlock", Params: []sdk.Param{sdk.Int("pin", "the PIN").AsRequired().AsSensitive()}}}}
	const canary = "bind-canary-4471"
	_, err := Bind(p, "unlock", "", map[string][]string{"pin": {canary}})
	require.Error(t, err, "not a number")
	assert.Contains(t, err.Error(), "pin")
	assert.NotContains(t, err.Error(), canary)
}
