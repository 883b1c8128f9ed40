package bot

// Fetched is one message fetched from the support mailbox, handed to
// the desk for recording. Exactly one of Mail and ParseErr is set.
type Fetched struct {
	// UID is the message's IMAP UID in the mailbox being read.
	UID uint32
	// Mail is the parsed message (Received already set from INTERNALDATE).
	Mail *Mail
	// ParseErr says why the message could not be parsed; Raw then holds
	// it whole for the dead-letter record, and DedupeKey still identifies it.
	ParseErr  error
	Raw       []byte
	DedupeKey string
}

// Disposition says where intake should put a message once the desk has
// committed its outcome.
type Disposition int

const (
	// ToProcessed moves the message to the processed folder.
	ToProcessed Disposition = iota
	// ToFailed moves the message to the failed folder (dead letter).
	ToFailed
)

// Outcome is what the desk did with one Fetched message.
type Outcome struct {
	UID uint32
	// RFA is the number of the RFA created or appended to, 0 if none.
	RFA uint64
	// Result is one of the Result* constants.
	Result      IngestResult
	Disposition Disposition
}
