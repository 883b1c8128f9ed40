package bot

import "testing"

// TestClassifyReply: the everyday wordings of a requester's answer to a
// clearance. Not fixed wins over confirmation; questions and anything
// undecided are left for staff to read.
func TestClassifyReply(t *testing.T) {
	for _, tc := range []struct {
		reply string
		want  replyVerdict
	}{
		// Confirmations.
		{"Yes, it's working now", replyConfirms},
		{"yes it’s working now, thank you!", replyConfirms},
		{"Confirmed, thanks", replyConfirms},
		{"I can confirm the registers save again.", replyConfirms},
		{"That's fixed it, many thanks", replyConfirms},
		{"All good now, thanks", replyConfirms},
		{"Everything is working fine this morning.", replyConfirms},
		{"Works now. Thanks Priya", replyConfirms},
		{"Perfect, thank you", replyConfirms},
		{"That did the trick!", replyConfirms},
		{"Problem solved, you can close it.", replyConfirms},
		{"Yep", replyConfirms},
		{"Sorted, cheers", replyConfirms},
		{"It seems to be working fine now.", replyConfirms},
		{"No problems since, thanks.", replyConfirms},
		{"No issues now.\n\nRegards\nSam", replyConfirms},
		{"Please close this one.", replyConfirms},
		// Not fixed.
		{"Still broken", replyNotFixed},
		{"No, it's still not working", replyNotFixed},
		{"Yes I tried that but it is still broken", replyNotFixed},
		{"It isn't fixed.", replyNotFixed},
		{"It doesn't work, same error as before", replyNotFixed},
		{"Nope", replyNotFixed},
		{"No.", replyNotFixed},
		{"Unfortunately not, the register still won't save.", replyNotFixed},
		{"The same problem again this morning.", replyNotFixed},
		{"It's happening again", replyNotFixed},
		{"It worked yesterday but it stopped working again today", replyNotFixed},
		{"We are still getting the E2031 error", replyNotFixed},
		{"Thanks, but this has not fixed it.", replyNotFixed},
		{"Sadly not.", replyNotFixed},
		{"It’s back :(", replyNotFixed},
		{"Restarted as you said, no change.", replyNotFixed},
		{"Didn't help, sorry", replyNotFixed},
		// Thanks alone.
		{"Thank you!", replyThanks},
		{"Many thanks for your help", replyThanks},
		{"Thanks so much Priya", replyThanks},
		// Anything else.
		{"", replyOther},
		{"Is it fixed now?", replyOther},
		{"Is it working now? I haven't checked.", replyOther},
		{"Thanks, I'll try it tomorrow and let you know", replyOther},
		{"Can you call me about the printers instead?", replyOther},
		{"I will check with the office staff.", replyOther},
		// Only the first paragraph counts (the rest may be a signature
		// or an old story).
		{"Thanks, all sorted.\n\nLast week it was still broken and we lost a day.", replyConfirms},
	} {
		if got := classifyReply(tc.reply); got != tc.want {
			t.Errorf("classifyReply(%q) = %d, want %d", tc.reply, got, tc.want)
		}
	}
}
