// Command example is the tutorial provider plugin: every RPC of the
// contract, with no provider API behind it. The bot's tests use it.
package main

import (
	"github.com/deskbot/deskbot/plugins/example/provider"
	"github.com/deskbot/deskbot/sdk"
)

func main() {
	sdk.Serve(provider.New())
}
