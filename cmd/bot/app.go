package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/deskbot/deskbot/internal/engine"
	"github.com/deskbot/deskbot/internal/pluginhost"
)

// Main holds the running parts of the bot, built by Open and released by
// Close. Every subcommand that runs the pipeline goes through it.
type Main struct {
	ConfigPath string
	LogLevel   string
	Stderr     io.Writer

	Config *Config
	Logger *slog.Logger
	Host   *pluginhost.Host
	Engine *engine.Engine
}

// Open loads the configuration and starts the plugins and the engine.
func (m *Main) Open(ctx context.Context) error {
	var err error
	if m.ConfigPath != "" {
		m.Config, err = LoadConfig(m.ConfigPath)
	} else {
		m.Config, err = DevConfig()
	}
	if err != nil {
		return err
	}
	level := m.LogLevel
	if level == "" {
		level = m.Config.Log.Level
	}
	m.Logger, err = newLogger(m.Stderr, level, m.Config.Log.Format)
	if err != nil {
		return err
	}
	if m.Config.dev {
		m.Logger.Debug("development defaults: plugins trusted as found", "dir", m.Config.Plugin.Dir)
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	hcs, err := m.Config.HostConfigs()
	if err != nil {
		return err
	}
	lvl, _ := parseLevel(level)
	m.Host = pluginhost.New(pluginhost.Options{Dir: m.Config.Plugin.Dir, Logger: m.Logger, LogLevel: lvl})
	if err := m.Host.Start(ctx, hcs); err != nil {
		return err
	}
	m.Engine = engine.New(engine.Options{
		Plugins: engine.HostRegistry(m.Host),
		Logger:  m.Logger,
	})
	return nil
}

// Close stops the plugins.
func (m *Main) Close() error {
	if m.Host != nil {
		return m.Host.Close()
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if s == "" {
		return slog.LevelInfo, nil
	}
	err := l.UnmarshalText([]byte(strings.ToUpper(s)))
	if err != nil {
		return l, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	l, err := parseLevel(level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}
