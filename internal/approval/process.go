package approval

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// processID names this process across restarts and hosts:
// "host/pid/start", where start is the process's start time in clock
// ticks since boot (Linux), so a reused pid is not mistaken for it.
func processID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), startTime(os.Getpid()))
}

func startTime(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces; fields count from the
	// closing parenthesis.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// deadHere reports whether executor names a process on this host that is
// no longer running. Executors elsewhere are judged by their lease.
func deadHere(executor string) bool {
	parts := strings.Split(executor, "/")
	if len(parts) != 3 {
		return false
	}
	host, _ := os.Hostname()
	if parts[0] != host || parts[2] == "" {
		return false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil {
		return false
	}
	return startTime(pid) != parts[2]
}
