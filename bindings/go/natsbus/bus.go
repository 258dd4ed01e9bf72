// Package natsbus is the Go hosts' NATS side of --write jetstream
// (PROTOCOL.md, "Commands"): it keeps the stream of commands, publishes the
// commands this node's core makes, feeds the whole stream in order to the
// core's Apply through a durable consumer of this node, and lets a request
// wait until its own command has been applied here (read-your-writes).
//
// Subjects: nakedhtmx.cmd.<table>.<op>, one per table and operation, where
// <table> is the table name with every byte outside [A-Za-z0-9_-] written as
// ~XX (hex), so any SQLite name is one subject token. The stream NAKEDHTMX
// holds nakedhtmx.cmd.> on file storage; each node's durable consumer is
// nakedhtmx-<node> (the node name encoded the same way).
package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// Stream is the JetStream stream that holds every node's commands.
const Stream = "NAKEDHTMX"

// Applier runs one command from the stream on this node's database.
type Applier interface {
	Apply(cmd *protocol.Command, seq uint64) (protocol.ApplyResult, error)
}

// Options configure a Bus.
type Options struct {
	URL  string
	Node string
	// Applier is this node's core.
	Applier Applier
	// Applied is called after each command is applied (the CLI ticks its
	// live hub, so screens follow at once).
	Applied func(protocol.ApplyResult)
	// Wait bounds how long a request waits for its own command (default 5 s);
	// past it the request is answered 202 with the command's id.
	Wait time.Duration
	Log  func(format string, args ...any)
}

// Bus is one node's connection to the command stream.
type Bus struct {
	opts    Options
	nc      *nats.Conn
	js      jetstream.JetStream
	consume jetstream.ConsumeContext

	mu      sync.Mutex
	waiters map[string]chan struct{} // registered before the publish, so no apply can come first
}

// Token encodes a name as one subject token: [A-Za-z0-9_-] as is, any other
// byte as ~XX.
func Token(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '-' {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "~%02X", ch)
		}
	}
	if b.Len() == 0 {
		return "~"
	}
	return b.String()
}

// Subject is where a command is published.
func Subject(cmd *protocol.Command) string {
	return "nakedhtmx.cmd." + Token(cmd.Table) + "." + Token(cmd.Op)
}

// Open connects, creates or updates the stream and this node's consumer,
// and starts applying the stream from where this node's consumer stands.
func Open(ctx context.Context, o Options) (*Bus, error) {
	if o.Wait <= 0 {
		o.Wait = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	b := &Bus{opts: o, waiters: map[string]chan struct{}{}}
	// No reconnect buffer: a publish while disconnected fails at once instead
	// of going out later, so "not sent, nothing written" is true when said.
	nc, err := nats.Connect(o.URL, nats.Name("nakedhtmx "+o.Node), nats.MaxReconnects(-1), nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { o.Log("nakedhtmx: NATS disconnected: %v", err) }),
		nats.ReconnectHandler(func(*nats.Conn) { o.Log("nakedhtmx: NATS reconnected") }))
	if err != nil {
		return nil, fmt.Errorf("NATS %s: %w", o.URL, err)
	}
	b.nc = nc
	if b.js, err = jetstream.New(nc); err != nil {
		nc.Close()
		return nil, err
	}
	if _, err := b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        Stream,
		Description: "nakedhtmx commands: every write, applied by every node in order",
		Subjects:    []string{"nakedhtmx.cmd.>"},
		Storage:     jetstream.FileStorage,
		Duplicates:  10 * time.Minute, // a retried publish (same Nats-Msg-Id) within this window is stored once
	}); err != nil {
		nc.Close()
		return nil, fmt.Errorf("JetStream stream %s: %w", Stream, err)
	}
	cons, err := b.js.CreateOrUpdateConsumer(ctx, Stream, jetstream.ConsumerConfig{
		Durable:       "nakedhtmx-" + Token(o.Node),
		Description:   "node " + o.Node + " applies every command in order",
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxAckPending: 1, // in order, one at a time: the projection is a single sequence
		// An ack lost in a NATS outage holds the next command back until the
		// server redelivers; redelivery is harmless (the core skips what it
		// applied), a long wait is not.
		AckWait: 5 * time.Second,
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("JetStream consumer: %w", err)
	}
	// Short pulls with a heartbeat: after NATS comes back, the consumer asks
	// again within seconds rather than the default 30, so writes waiting for
	// their own apply do not time out.
	if b.consume, err = cons.Consume(b.handle, jetstream.PullExpiry(5*time.Second), jetstream.PullHeartbeat(time.Second),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			o.Log("nakedhtmx: JetStream consumer: %v", err)
		})); err != nil {
		nc.Close()
		return nil, fmt.Errorf("JetStream consume: %w", err)
	}
	return b, nil
}

// handle applies one delivered command. The core skips a sequence it has
// already applied (its projection stores the last one in the same
// transaction), so a redelivery after a crash between apply and ack is
// harmless.
func (b *Bus) handle(msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		b.opts.Log("nakedhtmx: a command without metadata: %v", err)
		msg.Nak()
		return
	}
	var cmd protocol.Command
	if err := json.Unmarshal(msg.Data(), &cmd); err != nil || cmd.ID == "" {
		// Not ours to apply, and never will be: acknowledge it so it does not
		// block the stream, and say so.
		b.opts.Log("nakedhtmx: stream sequence %d is not a command (%v); skipped", meta.Sequence.Stream, err)
		msg.Ack()
		return
	}
	res, err := b.opts.Applier.Apply(&cmd, meta.Sequence.Stream)
	if err != nil || res.Status == 503 {
		// The database could not take it now (busy, closed): try again later.
		b.opts.Log("nakedhtmx: applying command %s (stream %d): %v %s", cmd.ID, meta.Sequence.Stream, err, res.Error)
		msg.NakWithDelay(time.Second)
		return
	}
	msg.Ack()
	if b.opts.Applied != nil {
		b.opts.Applied(res)
	}
	b.mu.Lock()
	if ch := b.waiters[cmd.ID]; ch != nil {
		close(ch)
		delete(b.waiters, cmd.ID)
	}
	b.mu.Unlock()
}

// ErrNotSent: the command was not published (NATS is unreachable); nothing
// will be written.
var ErrNotSent = errors.New("NATS is unreachable")

// Submit publishes a command and waits until this node has applied it, the
// wait ends, or ctx does. It reports whether the command was applied here.
// An error wrapping ErrNotSent means it was not published. A publish whose
// acknowledgement does not come in time may still have been stored: that is
// no error, the command is pending (its id answers for it).
func (b *Bus) Submit(ctx context.Context, cmd *protocol.Command) (bool, error) {
	data, err := json.Marshal(cmd)
	if err != nil {
		return false, err
	}
	ch := make(chan struct{})
	b.mu.Lock()
	b.waiters[cmd.ID] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.waiters, cmd.ID)
		b.mu.Unlock()
	}()
	pctx, cancel := context.WithTimeout(ctx, b.opts.Wait)
	defer cancel()
	if !b.nc.IsConnected() {
		return false, fmt.Errorf("command %s: %w", cmd.ID, ErrNotSent)
	}
	if _, err := b.js.Publish(pctx, Subject(cmd), data, jetstream.WithMsgID(cmd.ID)); err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
			b.opts.Log("nakedhtmx: command %s: no acknowledgement from JetStream in %s; answered as pending", cmd.ID, b.opts.Wait)
			return false, nil
		}
		return false, fmt.Errorf("command %s: %w (%v)", cmd.ID, ErrNotSent, err)
	}
	select {
	case <-ch:
		return true, nil
	case <-pctx.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			return false, ctx.Err()
		}
		return false, nil // published; the answer says it is pending
	}
}

// Close stops applying and closes the connection.
func (b *Bus) Close() {
	if b.consume != nil {
		b.consume.Stop()
	}
	if b.nc != nil {
		b.nc.Drain()
	}
}
