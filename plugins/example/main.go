// Command example is the tutorial provider plugin: every RPC of the
// contract, with no provider API behind it. The bot's tests use it.
package main

import (
	"fmt"
	"os"

	"github.com/deskbot/deskbot/plugins/example/provider"
	"github.com/deskbot/deskbot/sdk"
)

func main() {
	if err := sdk.Serve(provider.New()); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}
