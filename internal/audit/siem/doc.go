// Package siem ships the audit log to the desk's SIEM: every entry, at
// least once, to syslog (RFC 5424 over TCP or TLS, octet-counted framing)
// and to an HTTPS webhook (JSON lines), each destination with a durable
// cursor in the store. Each record carries its sequence number, the
// previous hash and its own, so the receiver sees gaps and edits. The
// syslog and webhook writers also carry the log's signed checkpoints.
package siem
