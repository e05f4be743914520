package pluginhost

import (
	"os/exec"
	"syscall"
)

// setDeathSignal asks the kernel to kill the plugin if the bot dies; the
// SDK also exits a plugin whose parent went away, on every platform.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
