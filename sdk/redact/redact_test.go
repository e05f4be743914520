package redact

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSensitiveKeys(t *testing.T) {
	r := New("licence_key")
	for _, k := range []string{"password", "Password", "root_password", "X-TOKEN", "x_token", "api_key", "apiKey", "first_password",
		"Authorization", "private_key", "privateKey", "password-1", "initial_root_password", "licence_key", "access_token", "mysql_pass"} {
		assert.True(t, r.IsSensitiveKey(k), k)
	}
	for _, k := range []string{"user", "domain", "ip", "key_id", "type", "passenger", "keyboard", "tokens_used_count"} {
		assert.False(t, r.IsSensitiveKey(k), k)
	}
}

func TestKnownSecretsAreScrubbedInEveryForm(t *testing.T) {
	r := New()
	secret := "s3cr3t/with+chars&more"
	r.AddSecret(secret, "abc") // too short to scrub: ignored
	for _, in := range []string{
		"plain " + secret,
		"query token=" + url.QueryEscape(secret),
		"path /x/" + url.PathEscape(secret),
		`json {"k":"s3cr3t/with+chars\u0026more"}`,
	} {
		out := r.String(in)
		assert.NotContains(t, out, "s3cr3t", in)
		assert.Contains(t, out, Mask, in)
	}
	assert.Equal(t, "abc def", r.String("abc def"))
}

func TestJSON(t *testing.T) {
	r := New()
	r.AddSecret("canary-value-123")
	in := `{"servers":[{"name":"web","first_password":"p@ss","nested":{"api_key":"k1"}}],"note":"has canary-value-123 inside","count":3,"big":12345678901234567890}`
	out := string(r.JSON([]byte(in)))
	assert.NotContains(t, out, "p@ss")
	assert.NotContains(t, out, "k1")
	assert.NotContains(t, out, "canary-value-123")
	assert.Contains(t, out, `"name":"web"`)
	assert.Contains(t, out, `12345678901234567890`, "numbers keep their precision")
	assert.Equal(t, "not json, canary: "+Mask, string(r.JSON([]byte("not json, canary: canary-value-123"))))
}

func TestPEMAndPasswordLines(t *testing.T) {
	r := New()
	in := "log\nPassWord: hunter22\n-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----\ndone"
	out := r.String(in)
	assert.NotContains(t, out, "hunter22")
	assert.NotContains(t, out, "MIIabc")
	assert.True(t, strings.HasPrefix(out, "log\nPassWord: "+Mask))
	assert.True(t, strings.HasSuffix(out, "done"))
}

func TestURL(t *testing.T) {
	r := New()
	u, _ := url.Parse("https://user:pw@example.com/api/x?token=abc%7C123&ip=1.2.3.4")
	s := r.URL(u)
	assert.NotContains(t, s, "pw")
	assert.NotContains(t, s, "abc")
	assert.Contains(t, s, "ip=1.2.3.4")
}

func TestPartial(t *testing.T) {
	assert.Equal(t, "WsTs…tD", Partial("WsTsAbCdEfGhtD"))
	assert.Equal(t, "…", Partial("short"))
}

// An excerpt is scrubbed before it is cut: a secret straddling the cut
// leaves no piece of itself behind, and the cut never splits a character.
func TestExcerpt(t *testing.T) {
	r := New()
	r.AddSecret("SECRET-CANARY-0123456789")
	s := strings.Repeat("x", 30) + "SECRET-CANARY-0123456789 trailing"
	got := r.Excerpt(s, 40)
	assert.NotContains(t, got, "SECRET")
	assert.Equal(t, strings.Repeat("x", 30)+Mask, strings.TrimSuffix(got, "…")[:30+len(Mask)])
	assert.Equal(t, "ab", r.Excerpt("ab", 5))
	assert.Equal(t, "héé…", r.Excerpt("héééé", 3))
}

func TestUnionScrubsWhatEitherDoes(t *testing.T) {
	a := New("x_token")
	a.AddSecret("first-secret-value")
	b := New("their_key")
	b.AddSecret("second-secret-value")
	u := a.Union(b)
	assert.Equal(t, "[REDACTED] and [REDACTED]", u.String("first-secret-value and second-secret-value"))
	assert.Equal(t, Mask, u.Value("x_token", "v"))
	assert.Equal(t, Mask, u.Value("their_key", "v"))
	assert.Equal(t, "second-secret-value", a.String("second-secret-value"), "a is unchanged")
	assert.Equal(t, "first-secret-value", b.String("first-secret-value"), "b is unchanged")
}

// Private keys in every format a provider hands out, as an API answers
// them: plain, with CRLF line ends, inside a JSON string, and cut short.
// Each key's body is a canary that must never come out.
var privateKeys = map[string]string{
	"PuTTY v2":         "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: imported-openssh-key\nPublic-Lines: 2\nAAAAB3NzaC1yc2EAAAADAQABAAABAQCanaryPublic\nAAAApublic2\nPrivate-Lines: 2\nCANARYputty2PrivateLineOne\nCANARYputty2PrivateLineTwo\nPrivate-MAC: 3f2a9c0b1d4e5f60718293a4b5c6d7e8f9012345\n",
	"PuTTY v3":         "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: aes256-cbc\nComment: eddsa-key\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAICanaryPublic\nAAAA\nKey-Derivation: Argon2id\nArgon2-Memory: 8192\nArgon2-Passes: 21\nArgon2-Parallelism: 1\nArgon2-Salt: 1f2e3d4c5b6a79880796a5b4c3d2e1f0\nPrivate-Lines: 1\nCANARYputty3PrivateLine\nPrivate-MAC: 0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9\n",
	"OpenSSH":          "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQCANARYopenssh\nAAAAMwAAAAtzc2gtZWQyNTUxOQAAACCANARYopenssh2\n-----END OPENSSH PRIVATE KEY-----\n",
	"PKCS#8":           "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCANARYpkcs8\n-----END PRIVATE KEY-----\n",
	"PKCS#8 encrypted": "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQICANARYpkcs8enc\n-----END ENCRYPTED PRIVATE KEY-----\n",
	"PGP":              "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGCANARYpgpPrivateBlock\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----\n",
	"SSH2 (RFC 4716)":  "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: \"rsa-key\"\nP2/56wAAANCANARYssh2PrivateBody\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n",
	"PuTTY, spaced":    "PuTTY-User-Key-File-2 : ssh-rsa\nEncryption: none\nPrivate-Lines: 1\nCANARYputtySpacedPrivate\nPrivate-MAC: 3f2a9c0b\n",
}

func TestPrivateKeysAreScrubbedInEveryFormat(t *testing.T) {
	r := New()
	for name, key := range privateKeys {
		crlf := strings.ReplaceAll(key, "\n", "\r\n")
		cut := key[:len(key)*3/4]
		for form, text := range map[string]string{
			"plain":        "the key:\n" + key + "done",
			"crlf":         "the key:\r\n" + crlf + "done",
			"cut short":    "the key:\n" + cut,
			"json":         string(r.JSON([]byte(`{"result":{"key":` + quote(key) + `},"note":"kept"}`))),
			"json as text": r.String(`{"key":` + quote(key) + `}`),
		} {
			out := r.String(text)
			assert.NotContains(t, out, "CANARY", "%s, %s: %s", name, form, out)
			assert.Contains(t, out, Mask, "%s, %s", name, form)
		}
		assert.True(t, strings.HasSuffix(r.String("the key:\n"+key+"done"), "done"), "%s: text after the key is kept", name)
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// A secret used as a key is masked like one used as a value, and two keys
// masked alike both stay, so nothing in the document is lost from view.
func TestJSONMasksSecretKeys(t *testing.T) {
	r := New()
	r.AddSecret("QZXTARGET9", "QZXOTHER7")
	for in, want := range map[string]string{
		`{"auth":{"QZXTARGET9":1}}`:                    `{"auth":{"[REDACTED]":1}}`,
		`{"errors":{"QZXTARGET9":"token expired"}}`:    `{"errors":{"[REDACTED]":"token expired"}}`,
		`{"x-QZXTARGET9-y":1}`:                         `{"x-[REDACTED]-y":1}`,
		`{"QZXOTHER7":1,"QZXTARGET9":2}`:               `{"[REDACTED]":1,"[REDACTED]#2":2}`,
		`[{"QZXTARGET9":{"password":"p","name":"n"}}]`: `[{"[REDACTED]":{"name":"n","password":"[REDACTED]"}}]`,
	} {
		assert.Equal(t, want, string(r.JSON([]byte(in))), in)
	}
}

// One rule finds the sensitive fields of every shape of body: bracketed
// and confirmation names, objects under a sensitive key, form bodies, and
// every document of a JSON stream.
func TestSensitiveShapes(t *testing.T) {
	r := New()
	for _, k := range []string{"user[password]", "auth[token]", "password_confirmation", "passwordConfirm", "servers[0].password", "user[0][api_key]", "password[0]"} {
		assert.True(t, r.IsSensitiveKey(k), k)
	}
	for _, k := range []string{"user[name]", "confirmation", "token_count[0]"} {
		assert.False(t, r.IsSensitiveKey(k), k)
	}
	cases := map[string]struct{ body, ctype, want string }{
		"form":           {"user=bob&password=hunter22", "application/x-www-form-urlencoded", "password=%5BREDACTED%5D&user=bob"},
		"form sniffed":   {"user=bob&password=hunter22", "", "password=%5BREDACTED%5D&user=bob"},
		"bracketed form": {"user[name]=bob&user[password]=hunter22", "", "user%5Bname%5D=bob&user%5Bpassword%5D=%5BREDACTED%5D"},
		"bracketed json": {`{"user[password]":"hunter22"}`, "application/json", `{"user[password]":"[REDACTED]"}`},
		"confirmation":   {`{"password_confirmation":"hunter22"}`, "", `{"password_confirmation":"[REDACTED]"}`},
		"object value":   {`{"password":{"value":"hunter22"}}`, "application/json", `{"password":"[REDACTED]"}`},
		"list value":     {`{"tokens":["hunter22"],"token":["hunter22"]}`, "", `{"token":"[REDACTED]","tokens":["hunter22"]}`},
		"flag kept":      {`{"ssh_password":true}`, "", `{"ssh_password":true}`},
		"json stream":    {`{"a":1} {"delete":"everything","password":"hunter22"}`, "application/json", "{\"a\":1}\n{\"delete\":\"everything\",\"password\":\"[REDACTED]\"}"},
	}
	for name, tc := range cases {
		assert.Equal(t, tc.want, r.Body([]byte(tc.body), tc.ctype), name)
	}
	q, _ := url.ParseQuery("auth[token]=x&page=2")
	assert.Equal(t, "auth%5Btoken%5D=%5BREDACTED%5D&page=2", r.Query(q).Encode())
}
