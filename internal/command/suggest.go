package command

import "github.com/deskbot/deskbot/sdk"

// Suggest returns the candidates close to word, best first (at most three).
func Suggest(word string, candidates []string) []string { return sdk.Suggest(word, candidates) }
