//go:build unix

package console

import "syscall"

// noFollow makes opening the history file fail on a symbolic link.
const noFollow = syscall.O_NOFOLLOW
