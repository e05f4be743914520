package command

import (
	"fmt"
	"sort"
	"strings"

	"github.com/deskbot/deskbot/sdk"
)

// Usage is a command's one-line synopsis:
//
//	/cln ipl register IP type=TYPE [els_allowed=yes|no]
func Usage(provider string, c *sdk.CommandSpec) string {
	parts := []string{"/" + provider, c.Name}
	for _, p := range c.Params {
		var s string
		if p.Positional {
			s = strings.ToUpper(p.Name)
			if p.Repeated {
				s += "..."
			}
		} else {
			s = p.Name + "=" + placeholder(p)
		}
		if !p.Required {
			s = "[" + s + "]"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func placeholder(p sdk.Param) string {
	switch p.Type {
	case sdk.TypeEnum:
		if len(p.Enum) <= 4 {
			return strings.Join(p.EnumNames(), "|")
		}
		return "VALUE"
	case sdk.TypeBool:
		return "yes|no"
	case sdk.TypeInt:
		return "N"
	case sdk.TypeText:
		return "TEXT…"
	}
	return strings.ToUpper(p.Type.String())
}

// Page is a help page: a title and lines of text. Lines use `backticks`
// for things to type and *asterisks* for emphasis.
type Page struct {
	Title string
	Lines []string
}

// String renders the page as plain text.
func (pg Page) String() string {
	return pg.Title + "\n" + strings.Join(pg.Lines, "\n")
}

// HelpPage builds help for a plugin, a group of commands or one command.
// visible filters the commands listed (those a user may run); nil shows all
// that are not hidden.
func HelpPage(p Provider, description string, path []string, visible func(*sdk.CommandSpec) bool) (Page, error) {
	catalog := p.Catalog()
	if len(path) > 0 {
		c, err := resolvePath(p, path)
		if err != nil {
			return Page{}, err
		}
		if c != nil {
			return commandPage(p.Name(), c), nil
		}
	}
	var list []*sdk.CommandSpec
	prefix := strings.Join(path, " ")
	hidden := 0
	for i := range catalog {
		c := &catalog[i]
		if prefix != "" && !strings.HasPrefix(c.Name+" ", prefix+" ") {
			continue
		}
		if c.Hidden {
			hidden++
			continue
		}
		if visible != nil && !visible(c) {
			continue
		}
		list = append(list, c)
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	title := "/" + p.Name()
	if prefix != "" {
		title += " " + prefix
	}
	pg := Page{Title: title}
	if description != "" && prefix == "" {
		pg.Lines = append(pg.Lines, description, "")
	}
	if len(list) == 0 && hidden > 0 && prefix != "" {
		pg.Lines = append(pg.Lines, fmt.Sprintf("%d commands are reached by name, not listed: `/%s %s NAME ...`. `/%s help %s NAME` describes one.", hidden, p.Name(), prefix, p.Name(), prefix))
		return pg, nil
	}
	if len(list) == 0 {
		pg.Lines = append(pg.Lines, "You may not run any of these commands.")
		return pg, nil
	}
	for _, c := range list {
		pg.Lines = append(pg.Lines, fmt.Sprintf("`/%s %s` %s%s", p.Name(), c.Name, c.Summary, riskNote(c.Risk)))
	}
	if t := p.Targets(); len(t) > 1 {
		pg.Lines = append(pg.Lines, "", fmt.Sprintf("Targets: %s (default %s). Pick one with `--target NAME`.", strings.Join(t, ", "), orNone(p.DefaultTarget())))
	}
	pg.Lines = append(pg.Lines, "", fmt.Sprintf("Type `/%s help COMMAND` for details.", p.Name()))
	return pg, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func riskNote(r sdk.Risk) string {
	switch r {
	case sdk.RiskHigh:
		return " _(high risk)_"
	case sdk.RiskCritical:
		return " _(critical)_"
	}
	return ""
}

func commandPage(provider string, c *sdk.CommandSpec) Page {
	pg := Page{Title: "/" + provider + " " + c.Name}
	pg.Lines = append(pg.Lines, c.Summary, "", "Usage: `"+Usage(provider, c)+"`", "Risk: "+c.Risk.String())
	if c.Help != "" {
		pg.Lines = append(pg.Lines, "", c.Help)
	}
	if len(c.Params) > 0 {
		pg.Lines = append(pg.Lines, "", "Parameters:")
		for _, p := range c.Params {
			var notes []string
			notes = append(notes, p.Type.String())
			if p.Required {
				notes = append(notes, "required")
			}
			if p.Default != "" {
				notes = append(notes, "default "+p.Default)
			}
			if p.Repeated {
				notes = append(notes, "repeatable")
			}
			if p.Sensitive {
				notes = append(notes, "secret: asked for privately")
			}
			if p.Type == sdk.TypeText {
				notes = append(notes, "the rest of the line, no quotes needed")
			}
			line := fmt.Sprintf("• `%s` (%s) %s", p.Name, strings.Join(notes, ", "), p.Description)
			if p.Type == sdk.TypeEnum {
				var vals []string
				for _, e := range p.Enum {
					v := e.Value
					if len(e.Aliases) > 0 {
						v += " (" + strings.Join(e.Aliases, ", ") + ")"
					}
					vals = append(vals, v)
				}
				line += ". One of: " + strings.Join(vals, ", ")
			}
			pg.Lines = append(pg.Lines, strings.TrimSpace(line))
		}
	}
	pg.Lines = append(pg.Lines, "", "Every command also takes `ticket=REF`, the ticket reference (a word of the bot's, not a parameter; the policy may require it), and `--plan`, which shows what the command would do and runs nothing.")
	if len(c.Examples) > 0 {
		pg.Lines = append(pg.Lines, "", "Examples:")
		for _, e := range c.Examples {
			pg.Lines = append(pg.Lines, "`"+e+"`")
		}
	}
	return pg
}
