package chat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"rfadesk/bot"
)

// Discord JSON error codes we act on.
const codeThreadExists = 160004

// transport delivers chat outbox items; see Console.Transport.
type transport struct {
	c *Console
	// client is the console's, with 429s trapped (rateLimitTrap).
	client *http.Client
}

// Transport returns the bot.Transport for chat outbox items. Run it with
// a bot.Deliverer. It needs no gateway connection (REST only), so the
// backlog drains whenever Discord answers, also after Run has returned
// (the daemon's shutdown flush). Deliver makes one attempt per
// call: discordgo's own retries are off, so a 429 or 5xx comes back as a
// temporary DeliveryError and the outbox schedules the retry. A 429's
// DeliveryError carries Discord's retry_after as RetryAfter (and Global
// for the global limit), so the retry comes as soon as the limit lifts,
// not after the outbox's backoff. A retried post is not posted twice:
// messages carry a nonce derived from the outbox item with
// enforce_nonce, and an RFA's card is looked for before it is posted
// again.
func (c *Console) Transport() bot.Transport {
	client := *c.http
	client.Transport = rateLimitTrap{next: c.http.Transport}
	return transport{c: c, client: &client}
}

// call returns the options of every REST call of the transport.
func (t transport) call(ctx context.Context) []discordgo.RequestOption {
	return []discordgo.RequestOption{discordgo.WithContext(ctx), discordgo.WithClient(t.client)}
}

func (transport) Kind() bot.OutboxKind { return bot.OutboxChat }

// Deliver implements bot.Transport.
func (t transport) Deliver(ctx context.Context, item bot.OutboxItem) (bot.DeliveryResult, error) {
	c := t.c
	p := item.Chat
	if p == nil {
		return bot.DeliveryResult{}, permanent(errors.New("chat item without a post"))
	}
	switch p.Op {
	case bot.ChatNewRFA:
		return t.deliverCard(ctx, item)
	case bot.ChatThread:
		r, err := c.loadRFA(ctx, item.RFA)
		if err != nil {
			return bot.DeliveryResult{}, err
		}
		if r.Chat.ThreadID == "" {
			return bot.DeliveryResult{}, &bot.DeliveryError{Failure: bot.DeliveryTemporary,
				Err: fmt.Errorf("chat: %s has no thread yet", r.Ref())}
		}
		_, err = c.post(ctx, r.Chat.ThreadID, textMessage(p), nonce(item), t.call(ctx)...)
		return bot.DeliveryResult{}, classify(err)
	case bot.ChatOps:
		ch := c.cfg.OpsChannelID
		if ch == "" {
			ch = c.cfg.ChannelID
		}
		_, err := c.post(ctx, ch, textMessage(p), nonce(item), t.call(ctx)...)
		return bot.DeliveryResult{}, classify(err)
	case bot.ChatCard: // re-rendered and edited in place: a retry is harmless
		r, err := c.loadRFA(ctx, item.RFA)
		if err != nil {
			return bot.DeliveryResult{}, err
		}
		if r.Chat.PostID == "" {
			return bot.DeliveryResult{}, &bot.DeliveryError{Failure: bot.DeliveryTemporary,
				Err: fmt.Errorf("chat: %s has no card yet", r.Ref())}
		}
		if err := c.loadFirstText(ctx, r); err != nil {
			return bot.DeliveryResult{}, err
		}
		embed, buttons := card(r, c.clocks(r))
		embeds := []*discordgo.MessageEmbed{embed}
		_, err = c.s.ChannelMessageEditComplex(&discordgo.MessageEdit{
			Channel: c.cfg.ChannelID, ID: r.Chat.PostID, Embeds: &embeds, Components: &buttons,
			AllowedMentions: noMentions(),
		}, t.call(ctx)...)
		return bot.DeliveryResult{}, classify(err)
	case bot.ChatReact:
		if p.Origin == nil || p.Emoji == "" {
			return bot.DeliveryResult{}, permanent(errors.New("chat: reaction without an origin or emoji"))
		}
		err := c.s.MessageReactionAdd(p.Origin.ChannelID, p.Origin.MessageID, p.Emoji, t.call(ctx)...)
		return bot.DeliveryResult{}, classify(err)
	}
	return bot.DeliveryResult{}, permanent(fmt.Errorf("chat: unknown destination %q", p.Op))
}

// deliverCard posts the RFA's card (unless it is already posted) and
// opens its thread (unless it is already open).
func (t transport) deliverCard(ctx context.Context, item bot.OutboxItem) (bot.DeliveryResult, error) {
	c := t.c
	r, err := c.loadRFA(ctx, item.RFA)
	if err != nil {
		return bot.DeliveryResult{}, err
	}
	if r.Chat.ThreadID != "" {
		return bot.DeliveryResult{ChatPostID: r.Chat.PostID, ChatThreadID: r.Chat.ThreadID}, nil
	}
	postID := r.Chat.PostID
	if postID == "" && item.Attempts > 0 {
		// An earlier attempt may have posted and then failed: find it
		// rather than post a second card after the nonce has expired.
		postID, err = t.findCard(ctx, r)
		if err != nil {
			return bot.DeliveryResult{}, classify(err)
		}
	}
	if postID == "" {
		if err := c.loadFirstText(ctx, r); err != nil {
			return bot.DeliveryResult{}, err
		}
		embed, buttons := card(r, c.clocks(r))
		m, err := c.post(ctx, c.cfg.ChannelID, outMessage{Embeds: []*discordgo.MessageEmbed{embed}, Components: buttons,
			AllowedMentions: noMentions()}, nonce(item), t.call(ctx)...)
		if err != nil {
			return bot.DeliveryResult{}, classify(err)
		}
		postID = m.ID
	}
	th, err := c.s.MessageThreadStartComplex(c.cfg.ChannelID, postID, &discordgo.ThreadStart{
		Name: threadName(r), AutoArchiveDuration: 10080,
	}, t.call(ctx)...)
	threadID := ""
	switch {
	case err == nil:
		threadID = th.ID
	case restCode(err) == codeThreadExists:
		threadID = postID // a thread started on a message has its id
	default:
		return bot.DeliveryResult{ChatPostID: postID}, classify(err)
	}
	c.rememberThread(threadID, r.Num)
	return bot.DeliveryResult{ChatPostID: postID, ChatThreadID: threadID}, nil
}

// findCard looks for r's card among the channel's recent messages by us.
func (t transport) findCard(ctx context.Context, r *bot.RFA) (string, error) {
	c := t.c
	msgs, err := c.s.ChannelMessages(c.cfg.ChannelID, 100, "", "", "", t.call(ctx)...)
	if err != nil {
		return "", err
	}
	prefix := r.Ref() + " · "
	me := c.botID()
	for _, m := range msgs {
		if m.Author == nil || !m.Author.Bot || (me != "" && m.Author.ID != me) {
			continue
		}
		for _, e := range m.Embeds {
			if strings.HasPrefix(e.Title, prefix) {
				return m.ID, nil
			}
		}
	}
	return "", nil
}

func (c *Console) loadRFA(ctx context.Context, num uint64) (*bot.RFA, error) {
	r, err := c.desk.RFA(ctx, num)
	if errors.Is(err, bot.ErrNotFound) {
		return nil, permanent(err)
	}
	if err != nil {
		return nil, &bot.DeliveryError{Failure: bot.DeliveryTemporary, Err: err}
	}
	return r, nil
}

// loadFirstText reads the text of r's first message, which its card
// shows: Desk.RFA leaves texts out.
func (c *Console) loadFirstText(ctx context.Context, r *bot.RFA) error {
	if len(r.Messages) == 0 || !r.Messages[0].TextOmitted() {
		return nil
	}
	text, err := c.desk.MessageText(ctx, r.Num, 0)
	if err != nil {
		return &bot.DeliveryError{Failure: bot.DeliveryTemporary, Err: err}
	}
	r.Messages[0].Text = text
	return nil
}

// outMessage is a message create body; discordgo's MessageSend has no
// nonce fields.
type outMessage struct {
	Content         string                            `json:"content,omitempty"`
	Embeds          []*discordgo.MessageEmbed         `json:"embeds,omitempty"`
	Components      []discordgo.MessageComponent      `json:"components,omitempty"`
	AllowedMentions *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
	Nonce           string                            `json:"nonce,omitempty"`
	EnforceNonce    bool                              `json:"enforce_nonce,omitempty"`
}

func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// textMessage renders a text post: the text neutralised, and the one
// deliberate role mention if the post has one.
func textMessage(p *bot.ChatPost) outMessage {
	text := Neutralise(p.Text)
	am := noMentions()
	if p.Mention != "" && isSnowflake(p.Mention) {
		text = "<@&" + p.Mention + "> " + text
		am.Roles = []string{p.Mention}
	}
	return outMessage{Content: cut(text, maxContent), AllowedMentions: am}
}

// nonce is stable across every attempt of one outbox item (at most 25
// characters, as Discord requires).
func nonce(item bot.OutboxItem) string {
	n := "rd" + strconv.FormatUint(item.ID, 36) + "." + strconv.FormatInt(item.Created.Unix(), 36)
	if len(n) > 25 {
		n = n[:25]
	}
	return n
}

// post creates a message in channelID with the nonce enforced; opts
// come after WithContext(ctx).
func (c *Console) post(ctx context.Context, channelID string, m outMessage, nonce string, opts ...discordgo.RequestOption) (*discordgo.Message, error) {
	m.Nonce, m.EnforceNonce = nonce, nonce != ""
	ep := discordgo.EndpointChannelMessages(channelID)
	body, err := c.s.RequestWithBucketID("POST", ep, m, ep, append([]discordgo.RequestOption{discordgo.WithContext(ctx)}, opts...)...)
	if err != nil {
		return nil, err
	}
	var out discordgo.Message
	if err := discordgo.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("chat: decoding the created message: %w", err)
	}
	return &out, nil
}

func permanent(err error) error {
	return &bot.DeliveryError{Failure: bot.DeliveryPermanent, Err: err}
}

// restCode returns the Discord JSON error code of a REST error, or 0.
func restCode(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Message != nil {
		return re.Message.Code
	}
	return 0
}

// classify turns a discordgo error into a *bot.DeliveryError: 429 and
// 5xx and network errors are temporary, 401 is auth, other 4xx are
// permanent. A 429 carries Discord's wait as RetryAfter (and Global).
// nil stays nil.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var de *bot.DeliveryError
	if errors.As(err, &de) {
		return err
	}
	var trapped *rateLimited
	if errors.As(err, &trapped) {
		return &bot.DeliveryError{Failure: bot.DeliveryTemporary, Code: http.StatusTooManyRequests,
			RetryAfter: trapped.RetryAfter, Global: trapped.Global, Err: fmt.Errorf("chat: %w", trapped)}
	}
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) {
		// A 429 on a call made without the trap: the body's retry_after only.
		var wait time.Duration
		if rl.RateLimit != nil && rl.TooManyRequests != nil && rl.RetryAfter >= 0 {
			wait = clampRetryAfter(rl.RetryAfter.Seconds())
		}
		return &bot.DeliveryError{Failure: bot.DeliveryTemporary, Code: http.StatusTooManyRequests, RetryAfter: wait, Err: fmt.Errorf("chat: %w", err)}
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		code := re.Response.StatusCode
		f := bot.DeliveryPermanent
		switch {
		case code == http.StatusUnauthorized:
			f = bot.DeliveryAuth
		case code == http.StatusTooManyRequests || code >= 500 || code == http.StatusRequestTimeout:
			f = bot.DeliveryTemporary
		}
		return &bot.DeliveryError{Failure: f, Code: code, Err: fmt.Errorf("chat: %w", err)}
	}
	if errors.Is(err, discordgo.ErrUnauthorized) {
		return &bot.DeliveryError{Failure: bot.DeliveryAuth, Code: http.StatusUnauthorized, Err: fmt.Errorf("chat: %w", err)}
	}
	return &bot.DeliveryError{Failure: bot.DeliveryTemporary, Err: fmt.Errorf("chat: %w", err)}
}
