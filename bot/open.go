package bot

import "context"

// openPage is how many open RFAs ForEachOpenRFA reads per transaction.
const openPage = 256

// ForEachOpenRFA calls fn for every RFA whose status is not closed, in
// number order, until fn returns an error, which is returned. It reads
// the open-RFA index a page at a time, each page in its own short read
// transaction, and calls fn outside any transaction, so fn may take its
// time (network I/O, desk methods) without holding the store. Its cost
// is the open RFAs, whatever the archive's size. The walk is not one
// snapshot: an RFA changed meanwhile is seen as it was when its page was
// read, and one opened or closed meanwhile may or may not be seen.
func (d *Desk) ForEachOpenRFA(ctx context.Context, fn func(*RFA) error) error {
	var after uint64
	for {
		var page []*RFA
		err := d.store.View(ctx, func(tx Tx) error {
			var err error
			page, err = tx.OpenRFAs(after, openPage)
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < openPage {
			return nil
		}
		after = page[len(page)-1].Num
	}
}
