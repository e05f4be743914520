package pluginhost

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"

	"github.com/hashicorp/go-hclog"

	"github.com/deskbot/deskbot/sdk/redact"
)

// slogAdapter lets go-plugin, which logs through hclog, write to the bot's
// slog logger. Lines a plugin writes arrive here already parsed, so they
// keep their level and fields and gain a "plugin" attribute.
type slogAdapter struct {
	l       *slog.Logger
	name    string
	level   hclog.Level
	implied []any
	// red masks what a plugin logs: its targets' secrets and values under
	// sensitive keys. The SDK masks a call's log itself, arguments
	// included; this covers a plugin that logs past it.
	red *redact.Redactor
}

func newSlogAdapter(l *slog.Logger, plugin string, level hclog.Level, red *redact.Redactor) hclog.Logger {
	if red == nil {
		red = redact.New()
	}
	return &slogAdapter{l: l.With("plugin", plugin), level: level, red: red}
}

var _ hclog.Logger = (*slogAdapter)(nil)

func toSlog(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelInfo
}

func (a *slogAdapter) Log(level hclog.Level, msg string, args ...any) {
	if level < a.level || level == hclog.Off {
		return
	}
	all := append(append([]any(nil), a.implied...), args...)
	// go-plugin logs every SIGKILL as an error, including the bot's own
	// stop of a plugin it refused (a bad setting, a failed health check),
	// which then reads as a crash before the real reason. A kill from
	// outside (the OOM killer) is also reported by the host, with its
	// consequence, at warning level.
	if level == hclog.Error && msg == "plugin process exited" && killedBySignal(all) {
		level = hclog.Info
	}
	// go-plugin tags some lines with the binary's path as "plugin"; the
	// attribute already names the plugin.
	for i := 0; i+1 < len(all); i += 2 {
		if k, ok := all[i].(string); ok && k == "plugin" {
			all[i] = "path"
		}
	}
	for i := 0; i+1 < len(all); i += 2 {
		k, _ := all[i].(string)
		switch v := all[i+1].(type) {
		case bool:
		case string:
			all[i+1] = a.red.Value(k, v)
		default:
			if a.red.IsSensitiveKey(k) {
				all[i+1] = redact.Mask
			} else if text := fmt.Sprint(v); a.red.String(text) != text {
				all[i+1] = a.red.String(text)
			}
		}
	}
	a.l.Log(context.Background(), toSlog(level), a.red.String(msg), all...)
}

func (a *slogAdapter) Trace(msg string, args ...any) { a.Log(hclog.Trace, msg, args...) }
func (a *slogAdapter) Debug(msg string, args ...any) { a.Log(hclog.Debug, msg, args...) }
func (a *slogAdapter) Info(msg string, args ...any)  { a.Log(hclog.Info, msg, args...) }
func (a *slogAdapter) Warn(msg string, args ...any)  { a.Log(hclog.Warn, msg, args...) }
func (a *slogAdapter) Error(msg string, args ...any) { a.Log(hclog.Error, msg, args...) }
func (a *slogAdapter) IsTrace() bool                 { return a.level <= hclog.Trace }
func (a *slogAdapter) IsDebug() bool                 { return a.level <= hclog.Debug }
func (a *slogAdapter) IsInfo() bool                  { return a.level <= hclog.Info }
func (a *slogAdapter) IsWarn() bool                  { return a.level <= hclog.Warn }
func (a *slogAdapter) IsError() bool                 { return a.level <= hclog.Error }
func (a *slogAdapter) ImpliedArgs() []any            { return a.implied }
func (a *slogAdapter) Name() string                  { return a.name }
func (a *slogAdapter) SetLevel(l hclog.Level)        { a.level = l }
func (a *slogAdapter) GetLevel() hclog.Level         { return a.level }

func (a *slogAdapter) With(args ...any) hclog.Logger {
	c := *a
	c.implied = append(append([]any(nil), a.implied...), args...)
	return &c
}

func (a *slogAdapter) Named(name string) hclog.Logger {
	c := *a
	if c.name != "" {
		name = c.name + "." + name
	}
	c.name = name
	return &c
}

func (a *slogAdapter) ResetNamed(name string) hclog.Logger {
	c := *a
	c.name = name
	return &c
}

func (a *slogAdapter) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(a.StandardWriter(opts), "", 0)
}

func (a *slogAdapter) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		a.Info(string(p))
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func killedBySignal(kv []any) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok && k == "error" {
			if v, ok := kv[i+1].(string); ok && v == "signal: killed" {
				return true
			}
		}
	}
	return false
}
