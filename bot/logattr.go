package bot

import "log/slog"

// RFAAttr is the log attribute naming RFA num, rfa=RFA-N: every log line
// about an RFA carries it, so one RFA's lines can be found together. For
// num 0 (no RFA) it is the empty attribute, which handlers leave out.
func RFAAttr(num uint64) slog.Attr {
	if num == 0 {
		return slog.Attr{}
	}
	return slog.String("rfa", FormatRef(num))
}
