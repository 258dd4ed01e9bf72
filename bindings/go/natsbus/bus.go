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
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// Stream is the JetStream stream that holds every node's commands.
const Stream = "NAKEDHTMX"

// ConfigBucket holds the cluster's config (nakedhtmx.json) under ConfigKey:
// with --nats it lives there, every node watches it and applies a change
// live, and a node that starts with a config file seeds an empty bucket.
const (
	ConfigBucket = "nakedhtmx-config"
	ConfigKey    = "nakedhtmx.json"
)

// Registry is the KV bucket of schema versions: key = DSID, value = the
// JSON Schema of every table and every command at that version. The
// stream's metadata names the current DSID under "nakedhtmx.dsid".
const Registry = "nakedhtmx-schemas"

// Applier is this node's core: it runs one command from the stream, and
// lists the commands it made and has not applied yet (its outbox).
type Applier interface {
	Apply(cmd *protocol.Command, seq uint64) (protocol.ApplyResult, error)
	Outbox() (protocol.Outbox, error)
}

// Options configure a Bus.
type Options struct {
	Node string
	// Commands: --write jetstream (the command stream, this node's consumer,
	// the outbox). Without it the bus carries events, config and the schema
	// registry only (--write direct with --nats: nodes sharing one store).
	Commands bool
	// Remote is called when another node published an event: the host ticks
	// its live hub at once rather than at its next timer tick.
	Remote func()
	// Applier is this node's core.
	Applier Applier
	// Applied is called after each command is applied (the CLI ticks its
	// live hub, so screens follow at once).
	Applied func(protocol.ApplyResult)
	// Wait bounds how long a request waits for its own command (default 5 s);
	// past it the request is answered 202 with the command's id.
	Wait time.Duration
	// Describe gives the current DSID and its description (the JSON Schema
	// of every table and every command) for the schema registry; nil: none.
	Describe func() (dsid string, doc json.RawMessage, err error)
	// Config applies the cluster's config each time it changes in
	// ConfigBucket (nil: deleted, the defaults); nil Config: not watched.
	// Seed is put there when the bucket has none yet (the local file).
	Config func(raw json.RawMessage) error
	Seed   json.RawMessage
	Log    func(format string, args ...any)
}

// Bus is one node's connection to the command stream.
type Bus struct {
	opts    Options
	nc      *nats.Conn
	js      jetstream.JetStream
	consume jetstream.ConsumeContext

	mu      sync.Mutex
	waiters map[string]chan struct{} // registered before the publish, so no apply can come first
	stored  map[string]bool          // outbox ids JetStream has acknowledged
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}

	registered  string      // the DSID last written to the registry
	schemaMoved atomic.Bool // the registry may be behind: describe and write on the next round
	configWatch jetstream.KeyWatcher
	configKV    jetstream.KeyValue
	configMu    sync.Mutex // one config applied at a time, in order
	configRev   uint64     // the last config revision applied
	configGone  bool       // the config key was deleted (the defaults apply)
	events      *nats.Subscription
	remoteKick  chan struct{}
}

// Subject is where a command is published (protocol.Subject).
func Subject(cmd *protocol.Command) string { return protocol.Subject(cmd.Table, cmd.Op) }

// streamConfig is the one description of the stream, for nodes and for
// publishers alike.
var streamConfig = jetstream.StreamConfig{
	Name:        Stream,
	Description: "nakedhtmx commands: every write, applied by every node in order",
	Subjects:    []string{"nakedhtmx.cmd.>"},
	Storage:     jetstream.FileStorage,
	Duplicates:  10 * time.Minute, // a retried publish (same Nats-Msg-Id) within this window is stored once
}

// Publish sends one command on the stream without joining as a node (the
// migrate subcommand): it creates the stream when it is missing and returns
// the command's stream sequence.
func Publish(ctx context.Context, url string, cmd *protocol.Command) (uint64, error) {
	nc, err := nats.Connect(url, nats.Name("nakedhtmx "+cmd.Node))
	if err != nil {
		return 0, fmt.Errorf("NATS %s: %w", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	if _, err := js.CreateOrUpdateStream(ctx, streamConfig); err != nil {
		return 0, fmt.Errorf("JetStream stream %s: %w", Stream, err)
	}
	data, err := json.Marshal(cmd)
	if err != nil {
		return 0, err
	}
	ack, err := js.Publish(ctx, Subject(cmd), data, jetstream.WithMsgID(cmd.ID))
	if err != nil {
		return 0, fmt.Errorf("publishing command %s: %w", cmd.ID, err)
	}
	return ack.Sequence, nil
}

// Open takes over a connection from Dial (it closes it on failure); with
// Commands it creates or updates the stream and this
// node's consumer and starts applying the stream from where the consumer
// stands; it keeps the schema registry, watches the config bucket (with
// Config) and other nodes' events (with Remote).
func Open(ctx context.Context, nc *nats.Conn, o Options) (*Bus, error) {
	if o.Wait <= 0 {
		o.Wait = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	b := &Bus{opts: o, waiters: map[string]chan struct{}{}, stored: map[string]bool{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), remoteKick: make(chan struct{}, 1)}
	nc.SetDisconnectErrHandler(func(_ *nats.Conn, err error) { o.Log("nakedhtmx: NATS disconnected: %v", err) })
	nc.SetReconnectHandler(func(*nats.Conn) {
		o.Log("nakedhtmx: NATS reconnected")
		b.wake() // what piled up in the outbox goes out now
	})
	var err error
	b.nc = nc
	if b.js, err = jetstream.New(nc); err != nil {
		nc.Close()
		return nil, err
	}
	if o.Remote != nil {
		if b.events, err = nc.Subscribe("nakedhtmx.events.>", b.remote); err != nil {
			nc.Close()
			return nil, fmt.Errorf("NATS subscribe: %w", err)
		}
	}
	if o.Commands {
		if err := b.openCommands(ctx); err != nil {
			nc.Close()
			return nil, err
		}
	}
	b.schemaMoved.Store(true)
	b.register(ctx) // before the flusher, which owns it from then on
	if o.Config != nil {
		if err := b.watchConfig(ctx); err != nil {
			b.Close()
			return nil, err
		}
	}
	if o.Remote != nil {
		go func() {
			for {
				select {
				case <-b.stop:
					return
				case <-b.remoteKick:
					o.Remote()
				}
			}
		}()
	}
	go b.flusher()
	b.wake() // commands kept before a restart go out first
	return b, nil
}

// Dial connects a node to NATS. A node does it before it opens (or creates)
// its database, so an unreachable cluster leaves no new file behind; Open
// then takes the connection over.
func Dial(url, node string) (*nats.Conn, error) {
	// No reconnect buffer: a publish while disconnected fails at once; the
	// command waits in the core's outbox, which the flusher sends in order
	// after the reconnect (a buffer would send it a second time, out of order).
	nc, err := nats.Connect(url, nats.Name("nakedhtmx "+node), nats.Timeout(5*time.Second),
		nats.MaxReconnects(-1), nats.ReconnectBufSize(-1))
	if err != nil {
		return nil, fmt.Errorf("NATS %s: %w", url, err)
	}
	return nc, nil
}

// EventsSubject is where a node publishes its change and schema events:
// nakedhtmx.events.<node>.<table> (schema events: table "~").
func EventsSubject(node, table string) string {
	return "nakedhtmx.events." + protocol.Token(node) + "." + protocol.Token(table)
}

// Event is what goes on an events subject: CONTRACT's event, with the node
// and the node-local id.
type Event struct {
	Node  string          `json:"node"`
	ID    int64           `json:"id"`
	Event string          `json:"event"` // change or schema
	Data  json.RawMessage `json:"data"`
}

// Announce publishes the API text of this node's live messages (from a tick)
// on the events subjects, fire and forget: a subscriber that is not there
// misses nothing it could resume (the stream of record is each node's log).
func (b *Bus) Announce(msgs []protocol.Message) {
	for _, m := range msgs {
		ev, ok := parseSSE(m.API)
		if !ok {
			continue
		}
		ev.Node, ev.ID = b.opts.Node, m.ID
		data, err := json.Marshal(ev)
		if err == nil {
			b.nc.Publish(EventsSubject(b.opts.Node, m.Table), data)
		}
	}
}

// SchemaChanged says this node's schema moved (its live messages carried a
// schema event): the flusher writes the new version to the registry.
// Describing a schema renders every table's and command's JSON Schema, so it
// is done then, not on every round.
func (b *Bus) SchemaChanged() {
	b.schemaMoved.Store(true)
	b.wake()
}

// parseSSE reads the event name and data of one SSE text.
func parseSSE(text string) (Event, bool) {
	var ev Event
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			ev.Event = v
		} else if v, ok := strings.CutPrefix(line, "data: "); ok {
			ev.Data = json.RawMessage(v)
		}
	}
	return ev, ev.Event != "" && json.Valid(ev.Data)
}

// remote handles another node's event: this node's screens follow at once
// (a burst of events is one call of Remote).
func (b *Bus) remote(m *nats.Msg) {
	if strings.HasPrefix(m.Subject, "nakedhtmx.events."+protocol.Token(b.opts.Node)+".") {
		return // our own
	}
	select {
	case b.remoteKick <- struct{}{}:
	default:
	}
}

// openCommands creates or updates the stream and this node's consumer and
// starts applying the stream from where the consumer stands.
func (b *Bus) openCommands(ctx context.Context) error {
	o := b.opts
	if _, err := b.js.CreateOrUpdateStream(ctx, streamConfig); err != nil {
		return fmt.Errorf("JetStream stream %s: %w", Stream, err)
	}
	// The node's file says where it stands: a consumer that is further on
	// (the file was restored from a backup, or is new) starts again after
	// the file's own sequence; an older one redelivers what the core skips.
	box, err := o.Applier.Outbox()
	if err != nil {
		return fmt.Errorf("reading the applied sequence: %w", err)
	}
	durable := "nakedhtmx-" + protocol.Token(o.Node)
	var cons jetstream.Consumer
	if c, err := b.js.Consumer(ctx, Stream, durable); err == nil {
		if info := c.CachedInfo(); info != nil && info.AckFloor.Stream > box.Applied {
			o.Log("nakedhtmx: this node's file is at stream sequence %d, its consumer at %d: starting again from %d",
				box.Applied, info.AckFloor.Stream, box.Applied+1)
			if err := b.js.DeleteConsumer(ctx, Stream, durable); err != nil {
				return fmt.Errorf("JetStream consumer: %w", err)
			}
		} else {
			cons = c
		}
	}
	cfg := jetstream.ConsumerConfig{
		Durable:       durable,
		Description:   "node " + o.Node + " applies every command in order",
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxAckPending: 1, // in order, one at a time: the projection is a single sequence
		// An ack lost in a NATS outage holds the next command back until the
		// server redelivers; redelivery is harmless (the core skips what it
		// applied), a long wait is not.
		AckWait: 5 * time.Second,
	}
	if box.Applied > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, box.Applied+1
	}
	if cons == nil {
		cons, err = b.js.CreateConsumer(ctx, Stream, cfg)
	}
	if err != nil {
		return fmt.Errorf("JetStream consumer: %w", err)
	}
	// Short pulls with a heartbeat: after NATS comes back, the consumer asks
	// again within seconds rather than the default 30, so writes waiting for
	// their own apply do not time out.
	if b.consume, err = cons.Consume(b.handle, jetstream.PullExpiry(5*time.Second), jetstream.PullHeartbeat(time.Second),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			o.Log("nakedhtmx: JetStream consumer: %v", err)
		})); err != nil {
		return fmt.Errorf("JetStream consume: %w", err)
	}
	return nil
}

// watchConfig seeds the config bucket when it is empty and applies every
// version of the config from the current one on.
func (b *Bus) watchConfig(ctx context.Context) error {
	kv, err := b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      ConfigBucket,
		Description: "nakedhtmx config (nakedhtmx.json): every node applies a change live",
		Storage:     jetstream.FileStorage,
		History:     10,
	})
	if err != nil {
		return fmt.Errorf("config bucket: %w", err)
	}
	if b.opts.Seed != nil {
		if _, err := kv.Create(ctx, ConfigKey, b.opts.Seed); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("seeding the config bucket: %w", err)
		}
	}
	w, err := kv.Watch(context.Background(), ConfigKey)
	if err != nil {
		return fmt.Errorf("watching the config: %w", err)
	}
	b.configWatch, b.configKV = w, kv
	go func() {
		for e := range w.Updates() {
			if e == nil {
				continue // the end of the initial values
			}
			var raw json.RawMessage
			if e.Operation() == jetstream.KeyValuePut {
				raw = e.Value()
			}
			b.applyConfig(e.Revision(), e.Operation() != jetstream.KeyValuePut, raw)
		}
	}()
	return nil
}

// pollConfig is the watcher's safety net: a watcher can stall for a while
// after NATS restarts, so the flusher also reads the config's current
// revision every round and applies it when it is newer than the last one.
func (b *Bus) pollConfig(ctx context.Context) {
	if b.configKV == nil {
		return
	}
	e, err := b.configKV.Get(ctx, ConfigKey)
	switch {
	case err == nil:
		b.applyConfig(e.Revision(), false, e.Value())
	case errors.Is(err, jetstream.ErrKeyNotFound):
		b.mu.Lock()
		gone := b.configGone
		b.mu.Unlock()
		if !gone {
			b.applyConfig(0, true, nil)
		}
	}
}

// applyConfig applies one version of the config once: a revision at or
// below the last one applied is skipped (the watcher and the poll both see it).
func (b *Bus) applyConfig(rev uint64, deleted bool, raw json.RawMessage) {
	b.configMu.Lock()
	defer b.configMu.Unlock()
	b.mu.Lock()
	if (rev != 0 && rev <= b.configRev) || (deleted && b.configGone) {
		b.mu.Unlock()
		return
	}
	if rev != 0 {
		b.configRev = rev
	}
	b.configGone = deleted
	b.mu.Unlock()
	if err := b.opts.Config(raw); err != nil {
		b.opts.Log("nakedhtmx: config revision %d in %s not applied, keeping the previous one: %v", rev, ConfigBucket, err)
	} else {
		b.opts.Log("nakedhtmx: config revision %d from %s applied", rev, ConfigBucket)
	}
}

// register writes the current schema version to the registry and names it
// in the stream's metadata, when it is not the one last written.
func (b *Bus) register(ctx context.Context) {
	if b.opts.Describe == nil || !b.schemaMoved.Swap(false) {
		return
	}
	dsid, doc, err := b.opts.Describe()
	if err != nil || dsid == "" || dsid == b.registered {
		return
	}
	defer func() {
		if b.registered != dsid {
			b.schemaMoved.Store(true) // not written: try again on the next round
		}
	}()
	kv, err := b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      Registry,
		Description: "nakedhtmx schema versions: DSID -> the JSON Schema of every table and command",
		Storage:     jetstream.FileStorage,
	})
	if err == nil {
		_, err = kv.Put(ctx, dsid, doc)
	}
	if err == nil {
		cfg := streamConfig
		cfg.Metadata = map[string]string{"nakedhtmx.dsid": dsid}
		_, err = b.js.UpdateStream(ctx, cfg)
	}
	if err != nil {
		b.opts.Log("nakedhtmx: schema registry: %v", err)
		return
	}
	b.registered = dsid
}

func (b *Bus) wake() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// flusher publishes the outbox: on start, after a reconnect, when a submit
// could not publish, and every two seconds while anything is left. Each
// command goes under its own id, so JetStream stores it once however often
// it is sent; it leaves the outbox when this node applies it.
func (b *Bus) flusher() {
	defer close(b.done)
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-b.kick:
		case <-t.C:
		}
		if !b.nc.IsConnected() {
			continue
		}
		b.register(context.Background()) // after SchemaChanged: the new DSID goes to the registry
		b.pollConfig(context.Background())
		if !b.opts.Commands {
			continue
		}
		box, err := b.opts.Applier.Outbox()
		cmds := box.Commands
		if err != nil {
			b.opts.Log("nakedhtmx: reading the outbox: %v", err)
			continue
		}
		b.mu.Lock()
		kept := map[string]bool{}
		for _, c := range cmds {
			kept[c.ID] = true
		}
		for id := range b.stored {
			if !kept[id] {
				delete(b.stored, id) // applied: no longer in the outbox
			}
		}
		b.mu.Unlock()
		for i := range cmds {
			b.mu.Lock()
			done := b.stored[cmds[i].ID]
			b.mu.Unlock()
			if done {
				continue
			}
			if err := b.publish(&cmds[i]); err != nil {
				break // in order: try the rest on the next round
			}
		}
	}
}

// publish sends one command under its id and waits for JetStream's ack.
func (b *Bus) publish(cmd *protocol.Command) error {
	data, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.Wait)
	defer cancel()
	if _, err := b.js.Publish(ctx, Subject(cmd), data, jetstream.WithMsgID(cmd.ID)); err != nil {
		return err
	}
	b.mu.Lock()
	b.stored[cmd.ID] = true
	b.mu.Unlock()
	return nil
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

// Submit publishes a command the core has kept in its outbox and waits until
// this node has applied it, the wait ends, or ctx does; it reports whether
// the command was applied here. When NATS is unreachable (or does not
// acknowledge in time) the command stays in the outbox and goes out later:
// the write is pending, never lost.
func (b *Bus) Submit(ctx context.Context, cmd *protocol.Command) (bool, error) {
	ch := make(chan struct{})
	b.mu.Lock()
	b.waiters[cmd.ID] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.waiters, cmd.ID)
		b.mu.Unlock()
	}()
	if !b.nc.IsConnected() {
		b.wake()
		return false, nil
	}
	if err := b.publish(cmd); err != nil {
		b.opts.Log("nakedhtmx: command %s kept in the outbox: %v", cmd.ID, err)
		b.wake()
		return false, nil
	}
	wctx, cancel := context.WithTimeout(ctx, b.opts.Wait)
	defer cancel()
	select {
	case <-ch:
		return true, nil
	case <-wctx.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			return false, ctx.Err()
		}
		return false, nil
	}
}

// Close stops applying and closes the connection.
func (b *Bus) Close() {
	if b.configWatch != nil {
		b.configWatch.Stop()
	}
	if b.events != nil {
		b.events.Unsubscribe()
	}
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	select {
	case <-b.done:
	case <-time.After(b.opts.Wait + time.Second):
	}
	if b.consume != nil {
		b.consume.Stop()
	}
	if b.nc != nil {
		b.nc.Drain()
	}
}
