//go:build !linux

package pluginhost

import "os/exec"

func setDeathSignal(*exec.Cmd) {}
