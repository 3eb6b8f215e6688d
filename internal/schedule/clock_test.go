package schedule

import (
	"context"
	"testing"
	"time"
)

func TestFakeClockTimers(t *testing.T) {
	t0 := time.Date(2024, 5, 6, 10, 0, 0, 0, time.UTC)
	c := NewFakeClock(t0)
	if !c.Now().Equal(t0) {
		t.Fatalf("Now = %s, want %s", c.Now(), t0)
	}
	t3 := c.NewTimer(3 * time.Minute)
	t1 := c.NewTimer(time.Minute)
	t2 := c.NewTimer(2 * time.Minute)
	stopped := c.NewTimer(90 * time.Second)
	if c.Pending() != 4 {
		t.Fatalf("Pending = %d, want 4", c.Pending())
	}
	if d, ok := c.NextDeadline(); !ok || !d.Equal(t0.Add(time.Minute)) {
		t.Fatalf("NextDeadline = %s, %v", d, ok)
	}
	if !stopped.Stop() {
		t.Error("Stop of a pending timer returned false")
	}
	if stopped.Stop() {
		t.Error("second Stop returned true")
	}

	c.Advance(30 * time.Second)
	select {
	case v := <-t1.C():
		t.Fatalf("timer fired early at %s", v)
	default:
	}

	c.Advance(2 * time.Minute) // to 10:02:30: t1 and t2 fire at their deadlines
	for i, tm := range []Timer{t1, t2} {
		select {
		case v := <-tm.C():
			if want := t0.Add(time.Duration(i+1) * time.Minute); !v.Equal(want) {
				t.Errorf("timer %d delivered %s, want its deadline %s", i+1, v, want)
			}
		default:
			t.Errorf("timer %d did not fire", i+1)
		}
	}
	if got := c.Now(); !got.Equal(t0.Add(150 * time.Second)) {
		t.Errorf("Now after Advance = %s", got)
	}
	if t1.Stop() {
		t.Error("Stop of a fired timer returned true")
	}
	select {
	case <-stopped.C():
		t.Error("stopped timer fired")
	default:
	}
	c.Set(t0.Add(time.Hour))
	if _, ok := <-t3.C(); !ok {
		t.Error("t3 channel closed")
	}
	if c.Pending() != 0 {
		t.Errorf("Pending = %d after all fired", c.Pending())
	}
	if _, ok := c.NextDeadline(); ok {
		t.Error("NextDeadline reported a timer with none pending")
	}

	// A non-positive duration fires at once.
	now := c.NewTimer(0)
	select {
	case v := <-now.C():
		if !v.Equal(c.Now()) {
			t.Errorf("immediate timer delivered %s", v)
		}
	default:
		t.Error("NewTimer(0) did not fire at once")
	}
}

func TestFakeClockBlockUntil(t *testing.T) {
	c := NewFakeClock(time.Unix(0, 0))
	armed := make(chan Timer)
	go func() {
		armed <- c.NewTimer(time.Minute)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.BlockUntil(ctx, 1); err != nil {
		t.Fatalf("BlockUntil: %v", err)
	}
	tm := <-armed
	c.Advance(time.Minute)
	<-tm.C()

	short, cancelShort := context.WithCancel(context.Background())
	cancelShort()
	if err := c.BlockUntil(short, 5); err == nil {
		t.Error("BlockUntil with a cancelled context returned nil")
	}
}

func TestSystemClock(t *testing.T) {
	c := SystemClock()
	before := time.Now()
	if got := c.Now(); got.Before(before) {
		t.Errorf("Now = %s before %s", got, before)
	}
	tm := c.NewTimer(time.Hour)
	if !tm.Stop() {
		t.Error("Stop of a pending system timer returned false")
	}
	fired := c.NewTimer(0)
	<-fired.C() // a real zero-duration timer fires at once
}
