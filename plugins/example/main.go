// Command example is the tutorial provider plugin: a counter API with its
// client and simulator, in the layout bot plugin new writes, and a command
// per other feature of the contract. The bot's tests use it.
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
