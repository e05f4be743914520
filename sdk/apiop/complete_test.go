package apiop_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/deskbot/deskbot/sdk"
	"github.com/deskbot/deskbot/sdk/apiop"
)

func TestCompleteByName(t *testing.T) {
	list := func(string) sdk.CompleteFunc {
		return func(context.Context, *sdk.Call, string) ([]sdk.Suggestion, error) { return nil, nil }
	}
	own := list("own")
	shared := map[string]sdk.CompleteFunc{"user": list("users"), "password": list("passwords"), "domain": list("domains")}
	op := apiop.Op[struct{}, struct{}]{
		Name: "account modify",
		Params: []sdk.Param{
			sdk.String("user", "The account"),
			sdk.String("password", "A new password").AsSensitive(),
			sdk.String("domain", "Its domain"),
			sdk.String("note", "Why"),
		},
		Complete: map[string]sdk.CompleteFunc{"domain": own},
	}
	before := op.Complete
	got := op.CompleteByName(shared)
	assert.NotNil(t, got.Complete["user"], "a parameter named in the table gets its function")
	assert.Nil(t, got.Complete["password"], "never for a sensitive parameter")
	assert.Nil(t, got.Complete["note"], "nor for one the table does not name")
	assert.Len(t, got.Complete, 2)
	assert.Len(t, before, 1, "the op's own map is not changed: ops share it")
}
