package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
)

// abs returns the absolute URL of a path relative to the base URL.
func (c *Client) abs(path string) string { return c.baseStr + path }

// getJSON GETs an absolute URL and decodes the body into v. Every decoding
// attempt starts from a new value: start's, or T's zero value when start is
// nil.
func getJSON[T any](ctx context.Context, c *Client, u string, v *T, start func() T) error {
	_, err := c.do(ctx, &request{method: http.MethodGet, url: u, class: idempotent, recycle: true, decode: func(b []byte) error {
		var fresh T
		if start != nil {
			fresh = start()
		}
		if err := decodeInto(b, &fresh); err != nil {
			return err
		}
		*v = fresh
		return nil
	}})
	return err
}

func decodeError(method, path string, err error) error {
	return fmt.Errorf("graph: %s %s: the response is not the JSON expected (%w); report this with the request-id", method, path, err)
}

// get GETs one object.
func get[T any](ctx context.Context, c *Client, p apiPath) (*T, error) {
	if p.err != nil {
		return nil, p.err
	}
	v := new(T)
	if err := getJSON(ctx, c, c.abs(p.s), v, nil); err != nil {
		return nil, err
	}
	return v, nil
}

// create POSTs body and decodes the created object.
func create[T any](ctx context.Context, c *Client, p apiPath, body any) (*T, error) {
	if p.err != nil {
		return nil, p.err
	}
	path := p.s
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("graph: POST %s: encode the body: %w", path, err)
	}
	v := new(T)
	_, err = c.do(ctx, &request{method: http.MethodPost, url: c.abs(path), body: b, header: http.Header{"Content-Type": {"application/json"}},
		class: unsafe, decode: func(b []byte) error { return decodeInto(b, v) }})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// update PATCHes an object with If-Match and Prefer: return=representation;
// it returns the object on 200 and (nil, nil) on 204.
func update[T any](ctx context.Context, c *Client, p apiPath, etag string, patch Patch) (*T, error) {
	if p.err != nil {
		return nil, p.err
	}
	path := p.s
	if etag == "" {
		return nil, fmt.Errorf("graph: PATCH %s: an ETag is required for If-Match: read the object first", c.basePath+path)
	}
	if patch == nil {
		patch = Patch{}
	}
	b, err := json.Marshal(patch)
	if err != nil {
		return nil, fmt.Errorf("graph: PATCH %s: encode the patch: %w", c.basePath+path, err)
	}
	h := http.Header{
		"Content-Type": {"application/json"},
		"If-Match":     {etag},
		"Prefer":       {"return=representation"},
	}
	var v *T
	_, err = c.do(ctx, &request{method: http.MethodPatch, url: c.abs(path), body: b, header: h, class: conditional, decode: func(b []byte) error {
		if len(b) == 0 { // 204 No Content
			return nil
		}
		v = new(T)
		return decodeInto(b, v)
	}})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// del DELETEs an object with If-Match.
func del(ctx context.Context, c *Client, p apiPath, etag string) error {
	if p.err != nil {
		return p.err
	}
	path := p.s
	if etag == "" {
		return fmt.Errorf("graph: DELETE %s: an ETag is required for If-Match: read the object first", c.basePath+path)
	}
	_, err := c.do(ctx, &request{method: http.MethodDelete, url: c.abs(path), header: http.Header{"If-Match": {etag}}, class: conditional})
	return err
}

// page is one page of a collection.
type page[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// list iterates over a collection, following @odata.nextLink verbatim until
// it is absent. Items of a page are decoded into one slice (no per-item
// copies), made with room for as many items as the page before had (Graph's
// pages are of one size), not grown item by item; keep, if not nil, filters
// them. Breaking out stops fetching.
func list[T any](ctx context.Context, c *Client, p apiPath, keep func(*T) bool) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		if p.err != nil {
			yield(nil, p.err)
			return
		}
		next := c.abs(p.s)
		size := 0
		for next != "" {
			var p page[T]
			if err := getJSON(ctx, c, next, &p, func() page[T] { return page[T]{Value: make([]T, 0, size)} }); err != nil {
				yield(nil, err)
				return
			}
			size = len(p.Value)
			for i := range p.Value {
				if keep != nil && !keep(&p.Value[i]) {
					continue
				}
				if !yield(&p.Value[i], nil) {
					return
				}
			}
			if p.NextLink != "" {
				if err := c.checkNextLink(p.NextLink, next); err != nil {
					yield(nil, err)
					return
				}
			}
			next = p.NextLink
		}
	}
}

// checkNextLink refuses a nextLink that would send the token to another
// origin or loop on the same page.
func (c *Client) checkNextLink(link, current string) error {
	if link == current {
		return fmt.Errorf("graph: GET %s: the service returned the same @odata.nextLink again; stopping to avoid an endless loop", pathOf(current))
	}
	u, err := url.Parse(link)
	if err != nil {
		return fmt.Errorf("graph: GET %s: the service returned an @odata.nextLink that is not a URL: %w", pathOf(current), err)
	}
	return c.checkOrigin(http.MethodGet, pathOf(current), "an @odata.nextLink", u)
}

func pathOf(u string) string {
	if pu, err := url.Parse(u); err == nil {
		return pu.Path
	}
	return "?"
}
