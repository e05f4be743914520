package siem

import (
	"encoding/json"
	"time"

	"github.com/deskbot/deskbot/internal/store"
)

// Record is one audit entry as shipped.
type Record struct {
	Seq        int64     `json:"seq"`
	Prev       string    `json:"prev"`
	Hash       string    `json:"hash"`
	Time       time.Time `json:"time"`
	RequestID  string    `json:"request_id"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	Provider   string    `json:"provider,omitempty"`
	Command    string    `json:"command,omitempty"`
	Target     string    `json:"target,omitempty"`
	Channel    string    `json:"channel,omitempty"`
	Args       string    `json:"args,omitempty"`
	Outcome    string    `json:"outcome,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	ApprovalID string    `json:"approval_id,omitempty"`
}

// RecordOf converts a stored entry.
func RecordOf(r store.AuditRecord) Record {
	return Record{Seq: r.Seq, Prev: r.PrevHash, Hash: r.Hash, Time: r.At.UTC(), RequestID: r.RequestID, Actor: r.Actor, Action: r.Action,
		Provider: r.Provider, Command: r.Command, Target: r.Target, Channel: r.Channel, Args: r.Args, Outcome: r.Outcome,
		Detail: r.Detail, ApprovalID: r.ApprovalID}
}

func (r Record) json() []byte {
	b, _ := json.Marshal(r)
	return b
}
