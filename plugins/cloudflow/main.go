// Command cloudflow is the CloudFlow (OnApp) provider plugin.
package main

import (
	"github.com/deskbot/deskbot/plugins/cloudflow/provider"
	"github.com/deskbot/deskbot/sdk"
)

func main() {
	sdk.Serve(provider.New())
}
