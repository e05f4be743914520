// Package sdk is what a provider plugin is written with.
//
// A plugin describes its commands (a catalog of names, typed parameters and
// risk levels) and what a target of it is configured with (typed settings
// and secrets), plans commands (a preview of the provider calls, with a
// digest, and no side effect) and executes them (progress events, then a
// result of text, key-value, table and file parts). The bot parses and
// authorizes user input against the catalog before a plugin sees it.
//
// Most plugins build a [Plugin] with [New], declare their target settings
// with [Plugin.Settings] and [Plugin.Secrets], build each target's client
// in [Plugin.OnConfigure], declare commands with [Plugin.Command] (or, for
// commands whose work is a list of API calls, with the sdk/apiop layer)
// and call [Serve] from main. The SDK masks secrets in everything a
// command returns. The lower-level [Provider] interface is what the bot
// talks to; [Plugin] implements it. Generated protobuf types never appear
// in this package's API.
//
// Related packages: sdk/apiop (commands as provider calls), sdk/httpapi
// (the HTTP client), sdk/redact (masking), sdk/sandbox (simulator kit),
// sdk/sdktest (conformance kit and test harness).
//
// See docs/plugin-authors.md for a walk-through.
package sdk
