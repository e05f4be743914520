package slack

import (
	"testing"

	slackgo "github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"

	"github.com/deskbot/deskbot/sdk"
)

// formSpec has a parameter of each kind the builder draws differently.
func formSpec() *sdk.CommandSpec {
	completes := sdk.String("user", "The account").AsRequired().AsPositional()
	completes.Completes = true
	many := sdk.String("domains", "Domains").AsRepeated()
	many.Completes = true
	return &sdk.CommandSpec{Name: "account suspend", Params: []sdk.Param{
		completes,
		sdk.String("reason", "Why, for the account's owner").AsRequired(),
		sdk.Enum("mode", "How", "soft", "hard").WithDefault("soft"),
		sdk.Bool("notify", "Tell the owner").WithDefault("true"),
		sdk.Bool("force", "Even if busy"),
		sdk.Int("days", "For how long").Between(1, 90),
		many,
		sdk.String("password", "Not shown").AsSensitive(),
	}}
}

func TestBuilderFormGolden(t *testing.T) {
	var blocks []slackgo.Block
	for _, p := range formSpec().Params {
		if !p.Sensitive {
			blocks = append(blocks, paramInput(p))
		}
	}
	golden(t, "modal_builder_params", blocks)
}

func TestWhichSlashCommandsOpenTheBuilder(t *testing.T) {
	for text, want := range map[string]bool{"/ops run": true, "/ops  RUN ": true, "/whm": true, "/whm  ": true,
		"/ops": false, "/ops approvals": false, "/whm account list": false} {
		name, rest, _ := cutCommand(text)
		st, ok := wantsBuilder(slackgo.SlashCommand{Command: name, Text: rest, ChannelID: "C1"})
		assert.Equal(t, want, ok, text)
		if ok && name == "/whm" {
			assert.Equal(t, "whm", st.Only, "the provider's own command opens on its commands")
		}
	}
}

func cutCommand(s string) (string, string, bool) {
	for i, r := range s {
		if r == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func TestAFormsValuesAreReadAsTheEngineTakesThem(t *testing.T) {
	spec := formSpec()
	v := slackgo.View{State: &slackgo.ViewState{Values: map[string]map[string]slackgo.BlockAction{
		"param_user":     {inputValue: {Type: "external_select", SelectedOption: slackgo.OptionBlockObject{Value: "demo1"}}},
		"param_reason":   {inputValue: {Type: "plain_text_input", Value: "  customer's request  "}},
		"param_mode":     {inputValue: {Type: "static_select", SelectedOption: slackgo.OptionBlockObject{Value: "hard"}}},
		"param_notify":   {inputValue: {Type: "checkboxes"}},
		"param_force":    {inputValue: {Type: "checkboxes"}},
		"param_days":     {inputValue: {Type: "plain_text_input"}},
		"param_domains":  {inputValue: {Type: "multi_external_select", SelectedOptions: []slackgo.OptionBlockObject{{Value: "a.example"}, {Value: "b.example"}}}},
		"param_password": {inputValue: {Type: "plain_text_input", Value: "never read from the form"}},
		"builder_target": {inputValue: {Type: "static_select", SelectedOption: slackgo.OptionBlockObject{Value: "web02"}}},
	}}}
	args, target, channel := formValues(v, spec)
	assert.Equal(t, map[string][]string{
		"user": {"demo1"}, "reason": {"customer's request"}, "mode": {"hard"},
		// Unticked: "false" where the default is true, nothing where leaving it out means no.
		"notify":  {"false"},
		"domains": {"a.example", "b.example"},
	}, args)
	assert.Equal(t, "web02", target)
	assert.Empty(t, channel)
}

func TestBuilderTicketFieldGolden(t *testing.T) {
	golden(t, "modal_builder_ticket", []slackgo.Block{ticketInput(false), ticketInput(true)})
}
