package bot

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// enqueueChat writes a staff-chat item to the outbox when chat is on
// (DeskConfig.Chat); without chat it does nothing.
func (d *Desk) enqueueChat(tx Tx, num uint64, post *ChatPost) error {
	if !d.cfg.Chat {
		return nil
	}
	now := d.now()
	_, err := tx.Enqueue(&OutboxItem{Kind: OutboxChat, RFA: num, Created: now, NextAttempt: now, Chat: post})
	return err
}

// enqueueMail gives out a Message-ID (recorded for threading when the
// mail belongs to an RFA) and writes the mail to the outbox.
func (d *Desk) enqueueMail(tx Tx, num uint64, om *OutgoingMail) (uint64, error) {
	if om.MessageID == "" {
		id, err := d.newMessageID(num)
		if err != nil {
			return 0, err
		}
		om.MessageID = id
	}
	if num != 0 {
		if err := tx.PutThread(om.MessageID, num); err != nil {
			return 0, err
		}
	}
	now := d.now()
	return tx.Enqueue(&OutboxItem{Kind: OutboxMail, RFA: num, Created: now, NextAttempt: now, Mail: om})
}

func (d *Desk) newMessageID(num uint64) (string, error) {
	var b [10]byte
	if _, err := io.ReadFull(d.rand, b[:]); err != nil {
		return "", fmt.Errorf("bot: message id: %w", err)
	}
	prefix := "rfadesk"
	if num != 0 {
		prefix = strings.ToLower(FormatRef(num))
	}
	domain := d.cfg.Address.Domain()
	if domain == "" {
		domain = "rfadesk.invalid"
	}
	return prefix + "." + hex.EncodeToString(b[:]) + "@" + domain, nil
}

// newToken returns 128 random bits, base64url without padding.
func newToken(rnd io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("bot: token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
