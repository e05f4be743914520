package sdk_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/redact"
)

func TestSensitiveValuesAreMaskedAsTypedAndEncoded(t *testing.T) {
	const canary = "CANARY key/with+chars"
	params := []sdk.Param{
		sdk.String("user", "User"),
		sdk.String("key", "Private key").AsSensitive(),
		sdk.String("pins", "PINs").AsSensitive().AsRepeated(),
	}
	vals := sdk.SensitiveValues(params, sdk.Args{"user": "bob-the-user", "key": canary, "pins": []string{"123", "PIN-CANARY-9"}})
	assert.ElementsMatch(t, []string{canary, "CANARY+key%2Fwith%2Bchars", "PIN-CANARY-9", "PIN-CANARY-9"}, vals,
		"sensitive values, repeated ones too, as typed and URL-encoded; short ones and ordinary ones left out")

	red := redact.New().With(vals...)
	out := red.String("GET /x?key=CANARY+key%2Fwith%2Bchars&user=bob-the-user pin=PIN-CANARY-9")
	assert.NotContains(t, out, "CANARY")
	assert.Contains(t, out, "bob-the-user")
}

func TestScrubErrorKeepsArgumentErrors(t *testing.T) {
	red := redact.New().With("TOKEN-CANARY-123")
	plain := errors.New("nothing secret")
	assert.Same(t, plain, sdk.ScrubError(red, plain), "an error without secrets is returned as it is")

	err := sdk.ScrubError(red, fmt.Errorf("wrapped: %w", sdk.BadArg("key", "refused TOKEN-CANARY-123")))
	var ae *sdk.ArgError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "key", ae.Param)
	assert.NotContains(t, err.Error(), "TOKEN-CANARY-123")

	err = sdk.ScrubError(red, errors.New("upstream said TOKEN-CANARY-123"))
	assert.NotContains(t, err.Error(), "TOKEN-CANARY-123")
}

// A plan step whose body uses a secret as a key shows it masked.
func TestPlanScrubMasksSecretKeys(t *testing.T) {
	r := redact.New()
	r.AddSecret("CANARY-plan-key-4b2e")
	p := (&sdk.Plan{Steps: []sdk.PlanStep{{Body: `{"auth":{"CANARY-plan-key-4b2e":1}}`}}}).Scrub(r)
	assert.Equal(t, `{"auth":{"[REDACTED]":1}}`, p.Steps[0].Body)
}

// A plan step's raw body is masked by field whether it is JSON or a form.
func TestPlanScrubMasksFormAndNestedBodies(t *testing.T) {
	p := (&sdk.Plan{Steps: []sdk.PlanStep{
		{Body: "user=bob&password=hunter22"},
		{Body: `{"password":{"value":"hunter22"}}`},
		{Body: `{"a":1} {"delete":"everything","token":"hunter22"}`},
	}}).Scrub(redact.New())
	assert.Equal(t, "password=%5BREDACTED%5D&user=bob", p.Steps[0].Body)
	assert.Equal(t, `{"password":"[REDACTED]"}`, p.Steps[1].Body)
	assert.Equal(t, "{\"a\":1}\n{\"delete\":\"everything\",\"token\":\"[REDACTED]\"}", p.Steps[2].Body)
}
