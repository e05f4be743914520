package sdktest

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/deskbot/deskbot/internal/command"
	"github.com/deskbot/deskbot/sdk"
)

// CheckExamples parses every example of the catalog as the bot parses
// what users type, and returns every one that would be refused, or that
// runs another command than the one it illustrates: an example users copy
// from help must work as given. A required sensitive argument may be
// left out (the bot asks for it in a private form), and a value written
// as [Placeholder] stands for any valid value.
func CheckExamples(plugin string, specs []sdk.CommandSpec) []error {
	return checkExamples(plugin, specs, specs)
}

// checkExamples checks the examples of the commands in only, against the
// whole catalog.
func checkExamples(plugin string, specs, only []sdk.CommandSpec) []error {
	var errs []error
	for i := range only {
		c := &only[i]
		for _, ex := range c.Examples {
			name, rest, err := command.SplitProvider(ex)
			if err != nil || name != plugin {
				continue // CheckCatalog names an example of another plugin
			}
			parsed, err := command.Parse(&exampleCatalog{name: plugin, specs: specs, targets: exampleTargets(rest)}, fillPlaceholders(c, rest))
			var perr *command.Error
			if errors.As(err, &perr) && len(perr.Missing) > 0 && allSensitive(c, perr.Missing) {
				// The bot asks for secrets in a private form: an example
				// leaves them out on purpose. It must still run the
				// command it illustrates.
				if perr.Command != c.Name {
					errs = append(errs, fmt.Errorf("command %q: example %q runs %q instead", c.Name, ex, perr.Command))
				}
				continue
			}
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("command %q: example %q is refused by the bot's parser: %v", c.Name, ex, err))
			case parsed.Invocation == nil:
				errs = append(errs, fmt.Errorf("command %q: example %q asks for help instead of running the command", c.Name, ex))
			case parsed.Invocation.Command.Name != c.Name:
				errs = append(errs, fmt.Errorf("command %q: example %q runs %q instead", c.Name, ex, parsed.Invocation.Command.Name))
			}
		}
	}
	return errs
}

// Placeholder is the value an example gives a parameter to say "yours
// here" (job_id=…): it is parsed as a made-up value of the parameter's
// type.
const Placeholder = "…"

// fillPlaceholders replaces each key=… of an example with a made-up value
// of that parameter's type.
func fillPlaceholders(c *sdk.CommandSpec, line string) string {
	if !strings.Contains(line, "="+Placeholder) {
		return line
	}
	fields := strings.Fields(line)
	for i, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok || v != Placeholder {
			continue
		}
		if p, found := c.Param(k); found {
			fields[i] = k + "=" + sampleFor(*p)
		}
	}
	return strings.Join(fields, " ")
}

func allSensitive(c *sdk.CommandSpec, names []string) bool {
	for _, n := range names {
		if p, ok := c.Param(n); !ok || !p.Sensitive {
			return false
		}
	}
	return true
}

// exampleTargets returns the targets an example names with --target: the
// kit does not know the targets of the bot the example will be typed in.
func exampleTargets(line string) []string {
	toks, err := command.Tokenize(line)
	if err != nil {
		return nil
	}
	var out []string
	for i, t := range toks {
		switch {
		case t.Text == "--target" && i+1 < len(toks):
			out = append(out, toks[i+1].Text)
		case strings.HasPrefix(t.Text, "--target="):
			out = append(out, strings.TrimPrefix(t.Text, "--target="))
		}
	}
	return out
}

// exampleCatalog is a plugin as the parser sees it.
type exampleCatalog struct {
	name    string
	specs   []sdk.CommandSpec
	targets []string
}

func (e *exampleCatalog) Name() string               { return e.name }
func (e *exampleCatalog) Catalog() []sdk.CommandSpec { return e.specs }
func (e *exampleCatalog) Targets() []string          { return e.targets }
func (e *exampleCatalog) DefaultTarget() string      { return "" }

// Completer lists the parameters each command suggests values for; a
// [sdk.Plugin] is one.
type Completer interface {
	Completions() map[string][]string
}

// CheckCompletions returns every suggestion function declared for a
// command or a parameter the catalog does not have: it would never be
// asked, and the parameter it was meant for gets no suggestions.
func CheckCompletions(specs []sdk.CommandSpec, completions map[string][]string) []error {
	var errs []error
	names := make([]string, 0, len(completions))
	for n := range completions {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		i := slices.IndexFunc(specs, func(c sdk.CommandSpec) bool { return c.Name == name })
		if i < 0 {
			errs = append(errs, fmt.Errorf("command %q has suggestions (Complete) but is not in the catalog", name))
			continue
		}
		for _, param := range completions[name] {
			if _, ok := specs[i].Param(param); !ok {
				errs = append(errs, fmt.Errorf("command %q: Complete(%q, ...) names no parameter of the command (it has: %s); it would never be asked", name, param, paramList(specs[i])))
			}
		}
	}
	return errs
}

func paramList(c sdk.CommandSpec) string {
	if len(c.Params) == 0 {
		return "none"
	}
	var out []string
	for _, p := range c.Params {
		out = append(out, p.Name)
	}
	return strings.Join(out, ", ")
}

// Diff shows how two snapshots differ, line by line: "-" for a line only
// before, "+" for one only after, two lines of context around each change.
func Diff(before, after string) string {
	a, b := strings.Split(before, "\n"), strings.Split(after, "\n")
	// Longest common subsequence, as a table: snapshots are small.
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			lines = append(lines, line{' ', a[i]})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			lines = append(lines, line{'-', a[i]})
			i++
		default:
			lines = append(lines, line{'+', b[j]})
			j++
		}
	}
	const context = 2
	var out strings.Builder
	last := -1
	for k, l := range lines {
		near := false
		for d := max(0, k-context); d <= min(len(lines)-1, k+context); d++ {
			near = near || lines[d].op != ' '
		}
		if !near {
			continue
		}
		if last >= 0 && k > last+1 {
			out.WriteString("  ...\n")
		}
		fmt.Fprintf(&out, "%c %s\n", l.op, l.text)
		last = k
	}
	return out.String()
}
