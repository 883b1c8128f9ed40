package config

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/BurntSushi/toml"
)

// Bounds of desk.max_message_text, in bytes.
const (
	minMessageText = 1 << 10
	maxMessageText = 16 << 20
)

// syntaxErrorText describes a TOML syntax error with the lines around
// it, like toml.ParseError.ErrorWithPosition, but never shows the value
// of a secret key (isSecretKey): such a line is shown as "key = (hidden)",
// and when the error is on that line the parser's message, which may
// quote part of the value, is replaced. The text goes to the terminal
// and the journal.
func syntaxErrorText(input string, pe toml.ParseError) string {
	lines := strings.Split(input, "\n")
	n := pe.Position.Line
	if n < 1 || n > len(lines) {
		return "line " + fmt.Sprint(n) + ": TOML syntax error"
	}
	msg := "toml: error: " + pe.Message
	if key, ok := secretLine(lines[n-1]); ok {
		msg = fmt.Sprintf("toml: error: the value of %s is not valid TOML (not shown: it is a secret); write it as a quoted string, e.g. %s = \"...\"", key, key)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nAt line %d, column %d:\n\n", msg, n, pe.Position.Col)
	for i := max(1, n-2); i <= n; i++ {
		line := lines[i-1]
		if key, ok := secretLine(line); ok {
			line = key + " = (hidden)"
		}
		fmt.Fprintf(&b, "%7d | %s\n", i, strings.TrimRight(line, "\r"))
	}
	return b.String()
}

// secretLine reports whether a TOML line assigns a secret key, and its key.
func secretLine(line string) (string, bool) {
	key, _, ok := strings.Cut(line, "=")
	if !ok {
		return "", false
	}
	key = strings.Trim(strings.TrimSpace(key), `"'`)
	return key, isSecretKey(key)
}

// isSecretKey reports whether a configuration key holds a secret whose
// value must never be printed: passwords, tokens and other credentials,
// whatever their section.
func isSecretKey(key string) bool {
	k := strings.ToLower(key)
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		k = k[i+1:]
	}
	if strings.HasSuffix(k, "_file") {
		return false // a path to the secret, not the secret
	}
	for _, w := range []string{"password", "passwd", "token", "secret", "credential", "api_key", "apikey", "private_key"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// Secret is a credential from the configuration (store.password). It
// never prints: fmt (every verb, nested in structs too), log/slog,
// encoding/json and encoding.TextMarshaler users all get "(hidden)".
// Reveal gives the value to the one client that needs it.
type Secret string

// hiddenSecret is how a Secret prints.
const hiddenSecret = "(hidden)"

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (Secret) String() string { return hiddenSecret }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return `"` + hiddenSecret + `"` }

// Format implements fmt.Formatter for every verb, so that no verb (%x,
// %q, a wrong %d) prints the value.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(hiddenSecret)) }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(hiddenSecret) }

// MarshalText implements encoding.TextMarshaler (and so JSON).
func (Secret) MarshalText() ([]byte, error) { return []byte(hiddenSecret), nil }
