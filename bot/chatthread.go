package bot

import (
	"context"
	"fmt"
)

// RFAByChatThread returns the RFA whose staff-chat thread is threadID, or
// an error wrapping ErrNotFound.
func (d *Desk) RFAByChatThread(ctx context.Context, threadID string) (*RFA, error) {
	var r *RFA
	err := d.store.View(ctx, func(tx Tx) error {
		num, ok, err := tx.RFAByChatThread(threadID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("bot: chat thread %s: %w", threadID, ErrNotFound)
		}
		r, err = tx.RFA(num)
		return err
	})
	return r, err
}

// MarkChatSeen records that the desk has read the RFA's thread up to
// messageID (a Discord snowflake). It never moves backwards.
func (d *Desk) MarkChatSeen(ctx context.Context, num uint64, messageID string) error {
	return d.act(ctx, num, func(tx Tx, r *RFA) error {
		if snowflakeLess(r.Chat.LastSeen, messageID) {
			r.Chat.LastSeen = messageID
		}
		return nil
	})
}

// snowflakeLess compares decimal snowflakes numerically ("" is least).
func snowflakeLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
