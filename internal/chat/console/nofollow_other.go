//go:build !unix

package console

// noFollow is not available here; openHistory's Lstat still refuses a
// symbolic link.
const noFollow = 0
