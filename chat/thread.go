package chat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"rfadesk/bot"
)

// notePrefix marks a thread message as an internal note.
const notePrefix = "note:"

// threadMessage handles one message posted in an RFA's thread (live or
// caught up): a staff member's plain message is a reply to the requester,
// "note:" an internal note; messages from bots and non-staff are only
// marked seen. It returns an error, leaving the message unseen, only
// when the desk could not be reached (so a catch-up tries it again).
func (c *Console) threadMessage(ctx context.Context, m *discordgo.Message, mem *discordgo.Member) error {
	if m.Author == nil || m.Author.Bot {
		return nil
	}
	if m.Type != discordgo.MessageTypeDefault && m.Type != discordgo.MessageTypeReply {
		return nil
	}
	r, err := c.desk.RFAByChatThread(ctx, m.ChannelID)
	if errors.Is(err, bot.ErrNotFound) {
		num, ok := c.openedThread(m.ChannelID)
		if !ok {
			return nil // not an RFA's thread
		}
		// A thread we opened that the desk has not recorded yet.
		r, err = c.desk.RFA(ctx, num)
	}
	if err != nil {
		return err
	}
	if !snowflakeLess(r.Chat.LastSeen, m.ID) {
		return nil // already handled
	}
	if hasRole(mem, c.cfg.StaffRoleID) {
		if err := c.staffMessage(ctx, r, m, mem); err != nil {
			return err
		}
	}
	return c.desk.MarkChatSeen(ctx, r.Num, m.ID)
}

// rememberThread notes that this console opened threadID for RFA num.
func (c *Console) rememberThread(threadID string, num uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.opened == nil {
		c.opened = make(map[string]uint64)
	}
	c.opened[threadID] = num
}

// openedThread returns the RFA of a thread this console opened.
func (c *Console) openedThread(threadID string) (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	num, ok := c.opened[threadID]
	return num, ok
}

func (c *Console) staffMessage(ctx context.Context, r *bot.RFA, m *discordgo.Message, mem *discordgo.Member) error {
	text := strings.TrimSpace(m.Content)
	internal := len(text) >= len(notePrefix) && strings.EqualFold(text[:len(notePrefix)], notePrefix)
	if internal {
		text = strings.TrimSpace(text[len(notePrefix):])
	}
	var atts []bot.Attachment
	if !internal {
		var skipped []string
		atts, skipped = c.downloads(ctx, m.Attachments)
		if len(skipped) > 0 {
			c.say(ctx, m.ChannelID, "⚠️ Not attached to the email: "+strings.Join(skipped, "; "))
		}
	}
	if text == "" && len(atts) == 0 {
		return nil
	}
	if text == "" {
		text = "Please see the attached file(s)."
	}
	kind := bot.ActReply
	if internal {
		kind = bot.ActNote
	}
	err := c.desk.Do(ctx, r.Num, bot.StaffAction{
		Kind: kind, Text: text, Attachments: atts,
		Origin: &bot.ChatOrigin{ChannelID: m.ChannelID, MessageID: m.ID},
	}, actor(mem, m.Author))
	switch {
	case errors.Is(err, bot.ErrNotAllowed), errors.Is(err, bot.ErrInvalid):
		c.say(ctx, m.ChannelID, describeErr(err))
		return nil
	case err != nil:
		return err
	}
	if internal {
		// Best effort: shows the note was recorded (and not emailed).
		if err := c.s.MessageReactionAdd(m.ChannelID, m.ID, "📝", discordgo.WithContext(ctx)); err != nil {
			c.log.Warn("chat: reacting to a note", bot.RFAAttr(r.Num), "err", err)
		}
	}
	return nil
}

// downloads fetches a message's files within the size cap; it returns
// the files and a description of each one it could not attach.
func (c *Console) downloads(ctx context.Context, in []*discordgo.MessageAttachment) ([]bot.Attachment, []string) {
	var out []bot.Attachment
	var skipped []string
	for _, a := range in {
		if int64(a.Size) > c.opts.MaxAttachment {
			skipped = append(skipped, fmt.Sprintf("%s is %d bytes, over the %d-byte limit", a.Filename, a.Size, c.opts.MaxAttachment))
			continue
		}
		data, err := c.download(ctx, a.URL)
		if err != nil {
			c.log.Warn("chat: downloading an attachment", "file", a.Filename, "err", err)
			skipped = append(skipped, a.Filename+" could not be downloaded")
			continue
		}
		ct := a.ContentType
		if ct == "" {
			ct = http.DetectContentType(data)
		}
		out = append(out, bot.Attachment{Name: a.Filename, ContentType: ct, Size: int64(len(data)), Data: data, Stored: true})
	}
	return out, skipped
}

func (c *Console) download(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("chat: download: %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxAttachment+1))
	if err != nil {
		return nil, fmt.Errorf("chat: download: %w", err)
	}
	if int64(len(data)) > c.opts.MaxAttachment {
		return nil, fmt.Errorf("chat: download: over %d bytes", c.opts.MaxAttachment)
	}
	return data, nil
}

// say posts a notice from the console itself (best effort, no outbox:
// it reports on something happening now). The text may hold file names
// and errors, so bidirectional controls and status tokens are removed.
func (c *Console) say(ctx context.Context, channelID, text string) {
	text = withholdTokens(bot.NeutralizeBidi(text))
	_, err := c.post(ctx, channelID, outMessage{Content: cut(text, maxContent), AllowedMentions: noMentions()}, "")
	if err != nil {
		c.log.Warn("chat: posting a notice", "channel", channelID, "err", err)
	}
}

// settings returns the current Settings (Options.Settings).
func (c *Console) settings() Settings {
	if c.opts.Settings == nil {
		return Settings{}
	}
	return c.opts.Settings()
}

// loc is the desk's time zone (Settings.Location, or Europe/London).
func (c *Console) loc() *time.Location {
	if loc := c.settings().Location; loc != nil {
		return loc
	}
	if l, err := time.LoadLocation("Europe/London"); err == nil {
		return l
	}
	return time.UTC
}

// clocks returns r's SLA clocks now, or none without a Clocker.
func (c *Console) clocks(r *bot.RFA) []bot.ClockState {
	clocks := c.settings().Clocks
	if clocks == nil {
		return nil
	}
	return clocks.Clocks(r, c.opts.Now())
}
