package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// differentMailSameID reports whether m, whose Message-ID was recorded on
// RFA num, is a different mail from the one recorded: another sender or
// another subject. A redelivery of the same mail (another route, other
// Received headers) has the same sender and subject.
func (d *Desk) differentMailSameID(tx Tx, num uint64, m *Mail) (bool, error) {
	r, err := tx.RFA(num)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, old := range r.Messages {
		if old.Direction == Inbound && old.MessageID == m.MessageID {
			return !strings.EqualFold(old.From.Email, m.From.Email) || cleanSubject(old.Subject) != cleanSubject(keptSubject(m.Subject)), nil
		}
	}
	return false, nil
}

// keptSubject is the subject as a message keeps it: cut to
// MessageSubjectLimit (the whole of a longer one is in the message's
// FullTextName attachment).
func keptSubject(s string) string { return truncate(s, MessageSubjectLimit) }

// reusedKey is the dedupe key of a mail that reuses another's Message-ID:
// the id qualified by a digest of its sender and subject, so its own
// redeliveries are still recognised.
func reusedKey(key string, m *Mail) string {
	sum := sha256.Sum256([]byte(strings.ToLower(m.From.Email) + "\x00" + cleanSubject(m.Subject)))
	return key + "#" + hex.EncodeToString(sum[:8])
}
