package driver

import (
	"context"
	"iter"
	"sync"
)

// fanItem carries one result of a fan-out worker.
type fanItem[T any] struct {
	v   T
	err error
}

// fanout runs fn for every key that keys yields concurrently, at most limit at a time, and
// yields the items in key order: every item of the first key, then every item
// of the second, and so on. Each worker buffers at most buffer items ahead of
// the consumer, so memory stays bounded by limit×buffer items whatever the
// total. When the consumer stops early, the workers' context is cancelled and
// they are waited for before fanout returns.
func fanout[K, T any](ctx context.Context, keys func(context.Context) iter.Seq2[K, error], limit, buffer int,
	fn func(context.Context, K) iter.Seq2[T, error]) iter.Seq2[T, error] {
	if limit < 1 {
		limit = 1
	}
	return func(yield func(T, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		queue := make(chan chan fanItem[T], limit)
		sem := make(chan struct{}, limit)
		done := make(chan struct{})
		var workers sync.WaitGroup
		go func() {
			defer close(done)
			defer close(queue)
			for k, err := range keys(ctx) {
				ch := make(chan fanItem[T], buffer)
				if err != nil {
					ch <- fanItem[T]{err: err}
					close(ch)
					select {
					case queue <- ch:
					case <-ctx.Done():
					}
					return
				}
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return
				}
				select {
				case queue <- ch:
				case <-ctx.Done():
					<-sem
					return
				}
				workers.Add(1)
				go func() {
					defer workers.Done()
					defer func() { <-sem }()
					defer close(ch)
					for v, err := range fn(ctx, k) {
						select {
						case ch <- fanItem[T]{v, err}:
						case <-ctx.Done():
							return
						}
						if err != nil {
							return
						}
					}
				}()
			}
		}()
		defer func() {
			cancel()
			for range queue {
			}
			<-done
			workers.Wait()
		}()
		for ch := range queue {
			for it := range ch {
				if !yield(it.v, it.err) {
					return
				}
				if it.err != nil {
					return
				}
			}
		}
		if err := ctx.Err(); err != nil {
			var zero T
			yield(zero, err)
		}
	}
}
