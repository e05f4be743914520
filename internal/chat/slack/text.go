package slack

import (
	"regexp"
	"strings"
)

var (
	// <mailto:a@b.com|a@b.com>, <http://x.com|x.com>, <http://x.com>
	linkRE = regexp.MustCompile(`<(?:mailto:|https?://)[^|>]*\|([^>]*)>|<((?:https?://)[^|>]*)>`)
	// <@U123|name>, <#C123|name>, <!subteam^S123|@group>
	refRE = regexp.MustCompile(`<([@#!][^|>]*)(?:\|([^>]*))?>`)
)

// Unescape turns slash-command text as Slack sends it back into what the
// user typed: links and e-mail addresses Slack auto-formatted lose their
// markup, user and channel references keep their id, and the HTML
// entities Slack escapes (&amp; &lt; &gt;) are restored.
func Unescape(s string) string {
	s = linkRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := linkRE.FindStringSubmatch(m)
		if sub[1] != "" {
			return sub[1]
		}
		return sub[2]
	})
	s = refRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := refRE.FindStringSubmatch(m)
		ref := sub[1]
		switch ref[0] {
		case '@', '#':
			return ref[1:]
		}
		if sub[2] != "" {
			return sub[2]
		}
		return ref
	})
	return unescaper.Replace(s)
}

// Built once: a Replacer builds its tables on first use, and these run on
// every message.
var (
	unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
	escaper   = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
)

// escape makes text safe inside mrkdwn: Slack reads <, > and & as markup.
func escape(s string) string {
	return escaper.Replace(s)
}

// truncate cuts s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
