package postgres

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	pgstore "github.com/nakedhtmx/nakedhtmx/core/store/postgres"
)

// Pace is how Wake ticks: soon after a notice, every Slow between notices
// (what a lost notice may wait), and every Fast while it cannot listen
// (the polling a host does without LISTEN).
type Pace struct {
	Fast, Slow time.Duration
}

// DefaultPace polls every 20 ms without a listening connection, and ticks
// once a second besides the notices with one.
var DefaultPace = Pace{Fast: 20 * time.Millisecond, Slow: time.Second}

// Wake ticks a host's live hub as the log grows, instead of a timer asking
// Postgres every 20 ms: on a connection of its own it LISTENs on the
// channel the capture trigger and the DDL counter NOTIFY at commit
// (core/store/postgres Channel), and ticks on each notice, and every
// pace.Slow besides (a notice lost with a dropped connection waits that
// long at most). Notices that come while a tick runs make one tick more,
// not one each. While it cannot listen (the server away, a role that may
// not) it ticks every pace.Fast and tries again each second. It returns at
// once; the ticking ends with ctx. A notice is only a wake-up: what changed
// is read from the log, as without one.
func Wake(ctx context.Context, url string, pace Pace, tick func()) error {
	config, err := pgconn.ParseConfig(url)
	if err != nil {
		return err
	}
	wake := make(chan struct{}, 1)
	var listening atomic.Bool
	go func() {
		for ctx.Err() == nil {
			listen(ctx, config, pace, &listening, wake)
			listening.Store(false)
			sleep(ctx, time.Second)
		}
	}()
	go func() {
		for {
			every := pace.Fast
			if listening.Load() {
				every = pace.Slow
			}
			t := time.NewTimer(every)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-wake:
			case <-t.C:
			}
			t.Stop()
			tick()
		}
	}()
	return nil
}

// listen holds one listening connection until it fails or ctx ends,
// turning each notice into a wake-up (at most one waiting).
func listen(ctx context.Context, config *pgconn.Config, pace Pace, listening *atomic.Bool, wake chan<- struct{}) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgconn.ConnectConfig(cctx, config)
	cancel()
	if err != nil {
		return
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN "`+pgstore.Channel+`"`).ReadAll(); err != nil {
		return
	}
	listening.Store(true)
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	poke() // what came while nobody listened
	for {
		wctx, cancel := context.WithTimeout(ctx, pace.Slow)
		err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			poke()
		case errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err):
			// no notice: the ticker's own timer covers it
		default:
			return // the connection is gone
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
