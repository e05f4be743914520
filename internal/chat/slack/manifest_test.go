package slack

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// The app manifests must parse and declare what the adapter serves.
func TestAppManifests(t *testing.T) {
	for file, socket := range map[string]bool{"slack-app-manifest.yaml": false, "slack-app-manifest-socket-mode.yaml": true} {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "deploy", file))
		require.NoError(t, err)
		var m struct {
			Features struct {
				SlashCommands []struct {
					Command string `yaml:"command"`
					URL     string `yaml:"url"`
				} `yaml:"slash_commands"`
				AppHome struct {
					Home bool `yaml:"home_tab_enabled"`
				} `yaml:"app_home"`
				Shortcuts []struct {
					Type       string `yaml:"type"`
					CallbackID string `yaml:"callback_id"`
				} `yaml:"shortcuts"`
			} `yaml:"features"`
			OAuth struct {
				Scopes struct {
					Bot []string `yaml:"bot"`
				} `yaml:"scopes"`
			} `yaml:"oauth_config"`
			Settings struct {
				Events struct {
					URL    string   `yaml:"request_url"`
					Events []string `yaml:"bot_events"`
				} `yaml:"event_subscriptions"`
				Interactivity struct {
					Enabled    bool   `yaml:"is_enabled"`
					URL        string `yaml:"request_url"`
					OptionsURL string `yaml:"message_menu_options_url"`
				} `yaml:"interactivity"`
				Socket bool `yaml:"socket_mode_enabled"`
			} `yaml:"settings"`
		}
		require.NoError(t, yaml.Unmarshal(b, &m), file)
		var cmds []string
		for _, c := range m.Features.SlashCommands {
			cmds = append(cmds, c.Command)
			if !socket {
				assert.Equal(t, "https://bot.example.com/slack/commands", c.URL)
			}
		}
		assert.Equal(t, []string{"/cln", "/whm", "/ionos", "/cloudflow", "/ops"}, cmds, file)
		assert.Equal(t, socket, m.Settings.Socket, file)
		assert.True(t, m.Settings.Interactivity.Enabled)
		assert.True(t, m.Features.AppHome.Home)
		assert.Equal(t, []string{"app_home_opened"}, m.Settings.Events.Events)
		assert.Subset(t, m.OAuth.Scopes.Bot, []string{"commands", "chat:write", "reactions:write", "files:write", "usergroups:read"})
		// The command builder: its shortcut, and (over HTTPS) where its
		// external selects get their options.
		if assert.Len(t, m.Features.Shortcuts, 1, file) {
			assert.Equal(t, "global", m.Features.Shortcuts[0].Type)
			assert.Equal(t, callbackBuilder, m.Features.Shortcuts[0].CallbackID)
		}
		if !socket {
			assert.Equal(t, "https://bot.example.com/slack/options", m.Settings.Interactivity.OptionsURL)
			assert.Equal(t, "https://bot.example.com/slack/interactions", m.Settings.Interactivity.URL)
			assert.Equal(t, "https://bot.example.com/slack/events", m.Settings.Events.URL)
		}
	}
}
