// Package sdk is what a provider plugin is written with.
//
// A plugin describes its commands (a catalog of names, typed parameters and
// risk levels), plans them (a preview of the provider calls, with no side
// effect) and executes them (progress events, then a result of text,
// key-value, table and file parts). The bot parses and authorizes user input
// against the catalog before a plugin sees it.
//
// Most plugins build a [Plugin] with [New], register commands with
// [Plugin.Handle] and call [Serve] from main. The lower-level [Provider]
// interface is what the bot talks to; [Plugin] implements it. Generated
// protobuf types never appear in this package's API.
//
// See docs/plugin-authors.md for a walk-through.
package sdk
