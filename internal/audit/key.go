package audit

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// HKDF labels: one secret, a key for each use, so the chain's MAC key and
// the checkpoints' signing key never meet.
const (
	labelChain      = "deskbot audit chain v2"
	labelCheckpoint = "deskbot audit checkpoint signing v1"
)

// MinKeyLength is the shortest audit key accepted.
const MinKeyLength = 16

// Key is the audit key, kept outside the database: entries are sealed
// with an HMAC under a key derived from it, and checkpoints are signed
// with an Ed25519 key derived from it, so anyone holding only the public
// key can check a checkpoint. A Key never prints its secret.
type Key struct {
	id   string
	mac  []byte
	sign ed25519.PrivateKey
}

// NewKey derives the audit keys from secret.
func NewKey(secret []byte) (*Key, error) {
	if len(secret) < MinKeyLength {
		return nil, fmt.Errorf("audit key: use at least %d characters", MinKeyLength)
	}
	mac, err := hkdf.Key(sha256.New, secret, nil, labelChain, 32)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	seed, err := hkdf.Key(sha256.New, secret, nil, labelCheckpoint, ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	k := &Key{mac: mac, sign: priv}
	k.id = k.Public().ID()
	return k, nil
}

// ID is the key's short fingerprint (of its public key): it names the
// key in hashes and checkpoints without revealing it.
func (k *Key) ID() string { return k.id }

// Public is the key that checks checkpoints.
func (k *Key) Public() PublicKey {
	return PublicKey{k.sign.Public().(ed25519.PublicKey)}
}

// String names the key by its id only.
func (k *Key) String() string { return "audit key " + k.id }

// GoString keeps %#v from printing the secret either.
func (k *Key) GoString() string { return k.String() }

func (k *Key) seal(payload []byte) string {
	m := hmac.New(sha256.New, k.mac)
	m.Write(payload)
	return "v2:" + k.id + ":" + hex.EncodeToString(m.Sum(nil))
}

// PublicKey checks checkpoints signed with an audit key.
type PublicKey struct {
	key ed25519.PublicKey
}

const publicKeyPrefix = "ed25519:"

// ID is the fingerprint of the key, as in [Key.ID].
func (p PublicKey) ID() string {
	sum := sha256.Sum256(p.key)
	return hex.EncodeToString(sum[:6])
}

// String is the form ParsePublicKey reads: "ed25519:BASE64".
func (p PublicKey) String() string {
	return publicKeyPrefix + base64.StdEncoding.EncodeToString(p.key)
}

// ParsePublicKey reads a key printed by [PublicKey.String].
func ParsePublicKey(s string) (PublicKey, error) {
	raw, ok := strings.CutPrefix(strings.TrimSpace(s), publicKeyPrefix)
	if !ok {
		return PublicKey{}, errors.New("public key: want ed25519:BASE64 (from bot audit key)")
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return PublicKey{}, errors.New("public key: not a base64 Ed25519 public key")
	}
	return PublicKey{ed25519.PublicKey(b)}, nil
}
