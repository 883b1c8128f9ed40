package mailbox

import (
	"fmt"
	"io"

	"github.com/emersion/go-imap/v2/imapclient"
)

// collectMessage reads one FETCH response into a buffer, like go-imap's
// FetchMessageData.Collect, but returns an error at once when a body
// literal fails to read or ends short (the connection broke in the
// middle of a message), and then reads nothing more from it. The caller must then leave the
// FetchCommand alone (no Next, no Close) and close the client.
//
// go-imap (v2.0.0-beta.8) returns a literal cut short by a closed
// connection as a short read ending in io.EOF, and releases its reader
// goroutine then; Collect, FetchMessageData.Next and FetchCommand.Close
// go on to drain the rest of that literal from the same buffered reader
// the released goroutine is reading: a data race, seen with a
// connection cut mid-FETCH (intake_fault_test.go). The batch was safe
// (the command's error discards it) but the race is not.
func collectMessage(msg *imapclient.FetchMessageData) (*imapclient.FetchMessageBuffer, error) {
	buf := &imapclient.FetchMessageBuffer{SeqNum: msg.SeqNum}
	for item := msg.Next(); item != nil; item = msg.Next() {
		switch item := item.(type) {
		case imapclient.FetchItemDataBodySection:
			var b []byte
			if item.Literal != nil {
				var err error
				if b, err = io.ReadAll(item.Literal); err != nil {
					return nil, err
				}
				if int64(len(b)) < item.Literal.Size() {
					// The literal reader reports a connection that ended
					// mid-literal as a plain EOF.
					return nil, fmt.Errorf("message body cut short after %d of %d bytes: %w", len(b), item.Literal.Size(), io.ErrUnexpectedEOF)
				}
			}
			buf.BodySection = append(buf.BodySection, imapclient.FetchBodySectionBuffer{Section: item.Section, Bytes: b})
		case imapclient.FetchItemDataUID:
			buf.UID = item.UID
		case imapclient.FetchItemDataInternalDate:
			buf.InternalDate = item.Time
		case imapclient.FetchItemDataRFC822Size:
			buf.RFC822Size = item.Size
		case imapclient.FetchItemDataFlags:
			buf.Flags = item.Flags
		}
	}
	return buf, nil
}
